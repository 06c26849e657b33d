package daemon

import (
	"context"
	"errors"

	"github.com/airlock-dev/airlock/tlsmitm"
)

// startCA loads the CA from the state directory, creating it on first start.
func (d *Daemon) startCA(context.Context) error {
	ca, err := tlsmitm.LoadOrCreateCA(tlsmitm.CAConfig{Dir: d.cfg.CADir(), Hosts: d.cfg.Capture.APIHosts}, d.log)
	switch {
	case errors.Is(err, tlsmitm.ErrKeyPermissions):
		return fail("CA in "+d.cfg.CADir(), "chmod 0400 the key and 0700 the directory, or `airlock ca rotate` if it may have leaked", err)
	case err != nil:
		return fail("CA in "+d.cfg.CADir(), "check the state directory, or move it aside to create a new CA (then `airlock trust install`)", err)
	}
	d.parts.ca = ca
	return nil
}
