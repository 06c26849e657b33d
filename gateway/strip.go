package gateway

import (
	"net/http"

	"github.com/airlock-dev/airlock/policy/credential"
)

// stripCredentials removes every credential the client embedded before
// anything is forwarded or recorded: the credential headers (classified and
// fingerprinted), credential-carrying query parameters, and, in any other
// header, a value the credential detectors recognise is masked (a name they
// recognise drops the header).
func (g *Gateway) stripCredentials(r *http.Request, ex *exchange) credential.Embedded {
	emb := g.strip.Strip(r.Header)
	r.URL.RawQuery = g.strip.StripQuery(r.URL.RawQuery, &emb, ex.credentialShaped)
	for k, vs := range r.Header {
		if ex.credentialShaped(k) {
			delete(r.Header, k)
			continue
		}
		for i, v := range vs {
			vs[i] = ex.masked(v)
		}
	}
	return emb
}

// masked is v with credentials (and, when configured, other detected
// secrets) replaced by placeholders.
func (ex *exchange) masked(v string) string {
	if v == "" {
		return v
	}
	out, _ := ex.args.Text(v, nil)
	return out
}

func (ex *exchange) credentialShaped(v string) bool {
	_, res := ex.args.Text(v, nil)
	return len(res.Counts) > 0
}
