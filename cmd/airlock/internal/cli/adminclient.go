package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"syscall"

	"github.com/airlock-dev/airlock/admin"
)

// client is the admin API client for the configured socket.
func (a *app) client() (*admin.Client, string) {
	sock := a.socketPath()
	return admin.NewClient(sock), sock
}

// adminError turns an admin API failure into the operator's one-line error.
// notFoundFix is the fix for a 404 (an unknown id), what says what was asked.
func adminError(err error, sock, what, notFoundFix string) error {
	var apiErr *admin.APIError
	switch {
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound:
		return fail(nil, notFoundFix, "%s: %s", what, apiErr.Message)
	case errors.As(err, &apiErr) && (apiErr.Status == http.StatusForbidden || apiErr.Status == http.StatusUnauthorized):
		return refused(sock, apiErr.Message)
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusServiceUnavailable:
		return fail(nil, "check 'journalctl -u airlockd' and 'airlock doctor'", "%s: the daemon cannot serve it now: %s", what, apiErr.Message)
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusConflict:
		return fail(nil, "decisions are single-use: the outcome is in 'airlock audit list'", "%s: %s", what, apiErr.Message)
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusBadRequest:
		return fail(nil, "see the command's --help", "%s: %s", what, apiErr.Message)
	case errors.Is(err, fs.ErrPermission):
		return refused(sock, "permission denied")
	case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE):
		return refused(sock, "the daemon closed the connection")
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED):
		return fail(nil, "start it (systemctl start airlockd), or point --socket at its admin socket",
			"airlockd is not running: no admin socket at %s", sock)
	}
	return fail(err, "check that airlockd is running ('airlock doctor')", "%s", what)
}

// refused is the error for a peer the admin socket does not accept.
func refused(sock, why string) error {
	return fail(nil, "run it as root (sudo), or as a member of the group named in admin.group",
		"the admin socket %s refused uid %d (%s)", sock, os.Geteuid(), why)
}

func idNotFound(kind, list string) string {
	return fmt.Sprintf("list the %s with '%s'", kind, list)
}
