package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// PeerEnv is what every peer needs: where the fake API is, how to trust it,
// the credential to put in, and a certificate for api.anthropic.com.
type PeerEnv struct {
	Dir                  string
	Upstream, UpstreamCA string
	ManagedKey           string
	PeerCA               string // the bench CA that signs LeafCert
	LeafCert, LeafKey    string // signed by PeerCA, for nginx
}

// nginxConf is nginx as its users configure it for this job: TLS in front,
// the credential header replaced, keep-alive HTTP/1.1 to a verified upstream
// (nginx has no HTTP/2 upstream), no response buffering so SSE streams flow.
const nginxConf = `# written by the Airlock benchmark
daemon off;
user root; # the benchmark's temporary directory is private to root
worker_processes auto;
worker_rlimit_nofile 65536;
pid %[1]s/nginx.pid;
error_log %[1]s/nginx-error.log warn;
events { worker_connections 16384; }
http {
  access_log off;
  client_body_temp_path %[1]s/body;
  proxy_temp_path %[1]s/proxy;
  client_max_body_size 32m;
  client_body_buffer_size 1m;
  keepalive_requests 1000000;
  upstream claude { server %[2]s; keepalive 512; keepalive_requests 1000000; }
  server {
    listen %[3]s ssl http2;
    ssl_certificate %[4]s;
    ssl_certificate_key %[5]s;
    location / {
      proxy_pass https://claude;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host api.anthropic.com;
      proxy_set_header Authorization "";
      proxy_set_header X-Api-Key "%[6]s";
      proxy_ssl_server_name on;
      proxy_ssl_name api.anthropic.com;
      proxy_ssl_verify on;
      proxy_ssl_trusted_certificate %[7]s;
      proxy_ssl_session_reuse on;
      proxy_buffering off;
      proxy_read_timeout 600s;
    }
  }
}
`

// StartNginx writes the configuration and starts nginx on listen.
func StartNginx(env PeerEnv, listen string) (*Proc, string, error) {
	dir := filepath.Join(env.Dir, "nginx")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, "", err
	}
	conf := filepath.Join(dir, "nginx.conf")
	text := fmt.Sprintf(nginxConf, dir, env.Upstream, listen, env.LeafCert, env.LeafKey, env.ManagedKey, env.UpstreamCA)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		return nil, "", err
	}
	p, err := StartProc(env.Dir, "nginx", nil, "nginx", "-p", dir, "-c", conf)
	return p, "nginx -p " + dir + " -c " + conf, err
}

// mitmAddon swaps the credential header and streams SSE answers instead of
// buffering them, as a mitmproxy user would write it.
const mitmAddon = `# written by the Airlock benchmark
from mitmproxy import http

MANAGED = %q

class SwapCredential:
    def request(self, flow: http.HTTPFlow) -> None:
        flow.request.headers.pop("authorization", None)
        flow.request.headers["x-api-key"] = MANAGED

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        if flow.response.headers.get("content-type", "").startswith("text/event-stream"):
            flow.response.stream = True

addons = [SwapCredential()]
`

// StartMitmproxy runs mitmdump in reverse-proxy mode with the addon; its CA is
// written to <dir>/mitmproxy/mitmproxy-ca-cert.pem on first start.
func StartMitmproxy(env PeerEnv, listen string) (*Proc, string, error) {
	dir := filepath.Join(env.Dir, "mitmproxy")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, "", err
	}
	addon := filepath.Join(dir, "swap_credential.py")
	if err := os.WriteFile(addon, []byte(fmt.Sprintf(mitmAddon, env.ManagedKey)), 0o600); err != nil {
		return nil, "", err
	}
	host, port, _ := strings.Cut(listen, ":")
	argv := []string{"mitmdump", "-q", "--mode", "reverse:https://" + env.Upstream, "--listen-host", host, "--listen-port", port,
		"--set", "confdir=" + dir, "--set", "ssl_verify_upstream_trusted_ca=" + env.UpstreamCA,
		"--set", "keep_host_header=true", "--set", "connection_strategy=lazy", "-s", addon}
	p, err := StartProc(env.Dir, "mitmproxy", nil, argv...)
	return p, strings.Join(argv, " "), err
}

// MitmCA is where mitmproxy keeps the CA its clients must trust.
func MitmCA(env PeerEnv) string {
	return filepath.Join(env.Dir, "mitmproxy", "mitmproxy-ca-cert.pem")
}
