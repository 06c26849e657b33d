package trust

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

func runtimeChecks() []runtimeCheck {
	return []runtimeCheck{
		{name: "curl/OpenSSL", bin: "curl", check: checkCurl,
			fix: "the system store lacks the Airlock CA: run `airlock trust install` (update-ca-certificates / update-ca-trust)"},
		{name: "node", bin: "node", check: checkNode,
			fix: "Node ignores the system store: NODE_EXTRA_CA_CERTS must name the Airlock CA; run `airlock trust install`, then restart the service or open a new login shell"},
		{name: "python3", bin: "python3", check: checkPython,
			fix: "SSL_CERT_FILE/REQUESTS_CA_BUNDLE must name the system bundle: run `airlock trust install`, then restart the service or open a new login shell"},
		{name: "go", check: checkGo,
			fix: "Go reads SSL_CERT_FILE or the system bundle: run `airlock trust install`"},
		{name: "java", bin: "java", check: checkJava,
			fix: "the JDK cacerts lacks the Airlock CA: run `airlock trust install` (keytool -importcert -cacerts)"},
	}
}

func runCmd(ctx context.Context, c checkRun, args ...string) error {
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Env = c.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: %s", err, lastLine(out))
	}
	return nil
}

// lastLine is the most telling line of a failed runtime's output: a Java
// exception's message, else the last line.
func lastLine(out []byte) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	for _, l := range lines {
		if strings.Contains(l, "Exception: ") {
			return strings.TrimSpace(l)
		}
	}
	return strings.TrimSpace(lines[len(lines)-1])
}

func checkCurl(ctx context.Context, c checkRun) error {
	hp := c.host + ":" + strconv.Itoa(c.port)
	return runCmd(ctx, c, "-sS", "-o", "/dev/null", "--fail", "--max-time", "15",
		"--resolve", hp+":127.0.0.1", "https://"+hp+"/")
}

const nodeScript = `const https = require('https');
const [host, port] = process.argv.slice(-2);
const lookup = (h, o, cb) => (o && o.all) ? cb(null, [{address: '127.0.0.1', family: 4}]) : cb(null, '127.0.0.1', 4);
https.get({host, port: Number(port), path: '/', lookup}, r => { r.resume(); r.on('end', () => process.exit(r.statusCode === 200 ? 0 : 3)); })
  .on('error', e => { console.error(e.code || '', e.message); process.exit(2); });`

func checkNode(ctx context.Context, c checkRun) error {
	return runCmd(ctx, c, "-e", nodeScript, "--", c.host, strconv.Itoa(c.port))
}

const pythonScript = `import socket, ssl, sys
host, port = sys.argv[1], int(sys.argv[2])
ctx = ssl.create_default_context()
with socket.create_connection(("127.0.0.1", port), timeout=15) as s:
    with ctx.wrap_socket(s, server_hostname=host) as t:
        t.sendall(b"GET / HTTP/1.1\r\nHost: " + host.encode() + b"\r\nConnection: close\r\n\r\n")
        assert t.recv(12).startswith(b"HTTP/1.1 200")`

func checkPython(ctx context.Context, c checkRun) error {
	return runCmd(ctx, c, "-c", pythonScript, c.host, strconv.Itoa(c.port))
}

const javaSource = `import javax.net.ssl.*; import java.net.Socket;
public class AirlockTrustCheck { public static void main(String[] a) throws Exception {
  SSLSocketFactory f = (SSLSocketFactory) SSLSocketFactory.getDefault();
  SSLSocket s = (SSLSocket) f.createSocket(new Socket("127.0.0.1", Integer.parseInt(a[1])), a[0], Integer.parseInt(a[1]), true);
  SSLParameters p = s.getSSLParameters(); p.setEndpointIdentificationAlgorithm("HTTPS"); s.setSSLParameters(p);
  s.startHandshake(); s.close(); } }`

func checkJava(ctx context.Context, c checkRun) error {
	dir, err := os.MkdirTemp("", "airlock-trust-java-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	src := filepath.Join(dir, "AirlockTrustCheck.java")
	if err := os.WriteFile(src, []byte(javaSource), 0o644); err != nil {
		return err
	}
	return runCmd(ctx, c, src, c.host, strconv.Itoa(c.port))
}

// checkGo verifies in-process the way a Go program would: SSL_CERT_FILE if
// set, else the first system bundle Go looks for on Linux.
func checkGo(ctx context.Context, c checkRun) error {
	roots, err := goRoots(c.env)
	if err != nil {
		return err
	}
	d := tls.Dialer{Config: &tls.Config{RootCAs: roots, ServerName: c.host}}
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port)))
	if err != nil {
		return err
	}
	return conn.Close()
}

var goBundles = []string{
	"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/ca-bundle.pem",
	"/etc/pki/tls/cacert.pem", "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", "/etc/ssl/cert.pem",
}

func goRoots(env []string) (*x509.CertPool, error) {
	files := goBundles
	if f := envValue(env, "SSL_CERT_FILE"); f != "" {
		files = []string{f}
	}
	for _, f := range files {
		if b, err := os.ReadFile(f); err == nil {
			pool := x509.NewCertPool()
			pool.AppendCertsFromPEM(b)
			return pool, nil
		}
	}
	return nil, fmt.Errorf("no system certificate bundle found (tried %s)", strings.Join(files, ", "))
}
