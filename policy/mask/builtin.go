package mask

import (
	"fmt"
	"regexp"
	"strings"
)

// builtinSpec describes one built-in detector. Shapes follow public rule
// sets (gitleaks' rules in particular), written anew for this engine: every
// pattern starts with its keyword so the prefilter anchors it.
type builtinSpec struct {
	name, confidence, kind string
	pattern                string
	keywords               []string
	maxLen                 int
	tune                   func(d *detector)
}

var (
	alnum     = byteSet("AZaz09", "")
	tokenTail = byteSet("AZaz09", "_-")
	digits    = byteSet("09", "")
)

func builtinSpecs() []builtinSpec {
	bounded := func(set *[256]bool) func(*detector) {
		return func(d *detector) { d.leftBound, d.notFollowed, d.validate = true, set, notPlaceholder }
	}
	return []builtinSpec{
		{"anthropic_api_key", "high", KindCredential, `sk-ant-api\d\d-[A-Za-z0-9_-]{8,200}`, []string{"sk-ant-api"}, 220, bounded(tokenTail)},
		{"anthropic_admin_key", "high", KindCredential, `sk-ant-admin\d\d-[A-Za-z0-9_-]{8,200}`, []string{"sk-ant-admin"}, 220, bounded(tokenTail)},
		{"anthropic_oauth_token", "high", KindCredential, `sk-ant-o(?:at|rt)\d\d-[A-Za-z0-9_-]{8,200}`, []string{"sk-ant-oat", "sk-ant-ort"}, 220, bounded(tokenTail)},
		{"openai_api_key", "high", KindCredential, `sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,250}|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20})`, []string{"sk-"}, 270, bounded(tokenTail)},
		{"aws_access_key_id", "high", KindCredential, `(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}`, []string{"A3T", "AKIA", "ASIA", "ABIA", "ACCA"}, 20, bounded(alnum)},
		{"aws_secret_access_key", "medium", KindCredential, `(?i)aws[a-z0-9_.-]{0,20}(?:secret|key)[a-z0-9_.-]{0,20}\\?["']?[ \t]*[:=][ \t]*\\?["']?([A-Za-z0-9/+]{40})`, []string{"aws"}, 160,
			func(d *detector) {
				d.leftBound, d.notFollowed, d.quickReject = true, byteSet("AZaz09", "/+"), notAnAssignment
			}},
		{"github_token", "high", KindCredential, `gh[pousr]_[A-Za-z0-9]{36,255}`, []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_"}, 260, bounded(alnum)},
		{"github_fine_grained_token", "high", KindCredential, `github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}`, []string{"github_pat_"}, 100, bounded(alnum)},
		{"gitlab_token", "high", KindCredential, `gl(?:pat|dt|rt|ptt|oas|cbt|ft|imt|agent|soat)-[A-Za-z0-9_-]{20,255}`, []string{"glpat-", "gldt-", "glrt-", "glptt-", "gloas-", "glcbt-", "glft-", "glimt-", "glagent-", "glsoat-"}, 270, bounded(tokenTail)},
		{"slack_token", "high", KindCredential, `xox[abpre]-[0-9A-Za-z-]{10,250}|xox[os]-\d+-[0-9A-Za-z-]{10,250}|xapp-\d-[A-Z0-9]{6,20}-\d{6,20}-[a-z0-9]{20,100}`, []string{"xoxa-", "xoxb-", "xoxp-", "xoxo-", "xoxs-", "xoxr-", "xoxe-", "xapp-"}, 260, bounded(tokenTail)},
		{"slack_webhook_url", "high", KindCredential, `(?i:https://hooks\.slack\.com/)(?:services|workflows|triggers)/[A-Za-z0-9+/_-]{20,250}`, []string{"https://hooks.slack.com/"}, 300, bounded(byteSet("AZaz09", "+/_-"))},
		{"stripe_key", "high", KindCredential, `(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,250}|whsec_[A-Za-z0-9+/=]{24,100}`, []string{"sk_live_", "sk_test_", "rk_live_", "rk_test_", "whsec_"}, 260, bounded(alnum)},
		{"google_api_key", "high", KindCredential, `AIza[0-9A-Za-z_-]{35}`, []string{"AIza"}, 39, bounded(tokenTail)},
		{"private_key", "high", KindCredential, `-----BEGIN[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----[\s\S]{16,}?-----END[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----`, []string{"-----BEGIN"}, 12 << 10,
			func(d *detector) { d.earlyMatch = true }},
		{"jwt", "medium", KindCredential, `eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`, []string{"eyJ"}, 8 << 10, bounded(tokenTail)},
		{"password_assignment", "low", KindCredential, passwordPattern, passwordKeywords, 1100, func(d *detector) {
			d.validate, d.deferToValue, d.quickReject = plausiblePassword, true, notAnAssignment
			d.validateMatch, d.reach = notGenericAllowed, passwordReach
		}},
		{"email", "medium", KindPII, `[\p{L}\p{N}._%+'-]{1,64}@(?:[\p{L}\p{N}-]{1,63}\.){1,8}[\p{L}]{2,24}`, nil, 400, tuneEmail},
		{"credit_card", "medium", KindPII, `(?:\d{4}[ .-]?){3}\d{4}|\d{4}[ -]?\d{6}[ -]?\d{5}|\d{13,19}`, nil, 24, tuneNumber(luhnValid)},
		{"phone", "low", KindPII, phonePattern, nil, 30, tuneNumber(plausiblePhone)},
		{"us_ssn", "medium", KindPII, `\d{3}-\d{2}-\d{4}`, nil, 11, tuneNumber(plausibleSSN)},
	}
}

// phonePattern: North American numbers, international ones with +, and UK
// national numbers (0 + area code of 2-4 digits, grouped as the UK writes
// them: 020 7946 0958, 0161 496 0000, 07700 900123, (01632) 960 001).
const phonePattern = `(?:\+?1[ .-]?)?\(?[2-9]\d{2}\)?[ .-]?\d{3}[ .-]?\d{4}|\+[1-9]\d{0,2}[ .-]?(?:\d[ .-]?){6,12}\d` +
	`|\(?0\d{2}\)?[ -]?\d{4}[ -]?\d{4}|\(?0\d{3}\)?[ -]?\d{3}[ -]?\d{4}|\(?0\d{4}\)?[ -]?(?:\d{6}|\d{3}[ -]?\d{3})`

// passwordPattern matches key=value style assignments (also quoted, JSON
// and JSON-escaped) and masks only the value (group 1). Values that look like
// references (${X}, <x>, {{x}}) or placeholders never match: the value may
// not contain those characters ($ only after the first byte: MyPa$$w0rd).
const passwordPattern = `(?i)(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|auth[_-]?key|credentials?)[a-z0-9_.-]{0,20}` +
	`(?:\\?["']?(?:[ \t]+[a-z][a-z0-9_.\[\]]{0,20})?[ \t]*(?:::?=|:=|\?=|\.=|=>|[:=])|\\?["'][ \t]*,)[ \t]*\\?["'\x60]?` +
	`([^\s"'\x60\\&;,<>(){}\[\]$*][^\s"'\x60\\&;,<>(){}\[\]*]{5,999})`

var passwordKeywords = []string{"password", "passwd", "pwd", "secret", "token", "apikey", "api_key", "api-key",
	"accesskey", "access_key", "access-key", "authkey", "auth_key", "auth-key", "credential"}

func tuneEmail(d *detector) {
	// Local parts may hold an apostrophe (o'brien) and non-ASCII letters
	// (Jörg.Müller): every byte >= 0x80 counts, a rune's bytes all do.
	local := byteSet("AZaz09", "._%+-'")
	for c := 0x80; c < 0x100; c++ {
		local[c] = true
	}
	d.startAt = func(prev int, c byte) bool { return local[c] && c != '\'' && (prev < 0 || !local[prev]) }
	d.needByte = '@'
	// The local part is a run of local bytes that must end in '@' within
	// 64 bytes: once the byte after the run is present and is not '@', no
	// address starts here. Most words are released by this test alone.
	d.quickReject = func(b []byte) bool {
		i := 0
		for i < len(b) && local[b[i]] {
			if i++; i > 64*4 {
				return true
			}
		}
		return i < len(b) && b[i] != '@'
	}
	d.notFollowed = byteSet("AZaz09", "-")
}

func tuneNumber(valid func(string) bool) func(*detector) {
	return func(d *detector) {
		d.startAt = func(prev int, c byte) bool {
			return (digits[c] || c == '+' || c == '(') && (prev < 0 || !isWordByte(byte(prev)) && prev != '+' && prev != '-' && prev != '.')
		}
		d.notFollowed = byteSet("AZaz09", "_")
		d.validate = valid
	}
}

func builtinDetectors() ([]*detector, error) {
	var out []*detector
	for _, s := range builtinSpecs() {
		info := DetectorInfo{Name: s.name, Confidence: s.confidence, Kind: s.kind, Keywords: s.keywords,
			Tags: []string{"builtin", s.kind}, Source: "builtin"}
		d, err := newRegexDetector(info, s.pattern, s.maxLen, s.keywords...)
		if err != nil {
			return nil, fmt.Errorf("compiling detector %s: %w", s.name, err)
		}
		if s.tune != nil {
			s.tune(d)
		}
		out = append(out, d)
	}
	return out, nil
}

// BuiltinNames lists every built-in detector name (PII ones included) and
// the ids of the default gitleaks rules.
func BuiltinNames() []string {
	names := ownNames()
	rules, _ := defaultRules()
	for _, d := range rules {
		names = append(names, d.info.Name)
	}
	return names
}

func plausiblePassword(v string) bool {
	if strings.HasPrefix(v, "[REDACTED:") || strings.Trim(v, v[:1]) == "" || codeReference.MatchString(v) {
		return false
	}
	if len(v) >= 12 {
		return true
	}
	return strings.ContainsFunc(v, func(r rune) bool { return r < 'A' || r > 'z' || r > 'Z' && r < 'a' })
}

// passwordReach bounds a passwordPattern match within run, which starts at
// its keyword: a match holds at most three runs of blanks (before a type
// word, before the operator, after it; the value holds none), so it ends
// before the fourth. Prose with no newline made every try read 1,100 bytes.
func passwordReach(run []byte) int {
	runs := 0
	for i := 1; i < len(run); i++ {
		if blankByte[run[i]] && !blankByte[run[i-1]] {
			if runs++; runs > 3 {
				return i
			}
		}
	}
	return len(run)
}

// The byte sets notAnAssignment skips (built once: it runs per keyword).
var (
	assignmentName = byteSet("AZaz09", "_.-")
	nameQuoteByte  = byteSet("", "\\\"' \t")
	typeWordByte   = byteSet("AZaz09", "_.[]")
	blankByte      = byteSet("", " \t")
)

// notAnAssignment is the quick reject of the assignment patterns: they all
// read [name bytes]{keyword + up to 20}, quotes and spaces, an optional type
// word (var x string = ...), then an operator (= : := ::= ?= .= => or a
// comma after a quote); once the bytes that decide it are present and are
// not that, nothing matches. Monotone: it answers true only from bytes seen.
func notAnAssignment(b []byte) bool {
	i := skipRun(b, 0, assignmentName, 49)
	if i > 48 {
		return true
	}
	i = skipRun(b, i, nameQuoteByte, 8)
	if i >= len(b) || strings.IndexByte(":=?,", b[i]) >= 0 {
		return false
	}
	if !isWordByte(b[i]) {
		return true
	}
	i = skipRun(b, i, typeWordByte, 21)
	i = skipRun(b, i, blankByte, 8)
	return i < len(b) && strings.IndexByte(":=?", b[i]) < 0
}

// notGenericAllowed applies gitleaks' generic-api-key allow-lists (names
// such as secret_length or token_url, references such as var.x or
// ACCESS_TOKEN, stop words) to Airlock's own assignment detector.
func notGenericAllowed(match, value string) bool {
	if strings.Trim(value, "0123456789") == "" && !secretName.MatchString(match) {
		return false // tokens: 100000 is a count; a PIN needs a password-like name
	}
	rules, err := defaultRules()
	if err != nil || isPassphrase(value) {
		return true
	}
	for _, d := range rules {
		if d.info.Name == "generic-api-key" && d.win.allowed != nil {
			return !d.win.allowed(value, match, match)
		}
	}
	return true
}

// isPassphrase: a long run of lower-case letters ("correcthorsebattery")
// is a password, though gitleaks' allow-list takes letters-only values for
// references (var.db_password, ACCESS_TOKEN).
func isPassphrase(v string) bool {
	return len(v) >= 12 && strings.Trim(v, "abcdefghijklmnopqrstuvwxyz") == ""
}

// ownNames lists Airlock's own detectors (golden files cover each).
func ownNames() []string {
	var names []string
	for _, s := range builtinSpecs() {
		names = append(names, s.name)
	}
	return names
}

var secretName = regexp.MustCompile(`(?i)pass|pwd|secret|pin`)

// codeReference is a value that reads a field or calls into a package
// (u.OutputTokens = in.Int64, token := cfg.Token): code, not a password.
var codeReference = regexp.MustCompile(`^[a-z][a-z0-9]{0,7}\.[A-Z][A-Za-z0-9_]*$`)

// placeholderMarkers are what templates write where a key goes
// (sk-ant-api03-REPLACE-ME, ghp_YOUR_TOKEN_HERE).
var placeholderMarkers = []string{"replace", "changeme", "change-me", "change_me", "your-", "your_", "placeholder", "xxxxxxxx"}

// notPlaceholder rejects a token-shaped value that is a template's
// placeholder rather than a key.
func notPlaceholder(v string) bool {
	low := strings.ToLower(v)
	for _, m := range placeholderMarkers {
		if strings.Contains(low, m) {
			return false
		}
	}
	return true
}
