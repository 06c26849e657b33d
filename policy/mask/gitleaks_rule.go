package mask

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"

	glconfig "github.com/zricethezav/gitleaks/v8/config"
)

// semiGenericOp is the assignment operator group of gitleaks' semi-generic
// rules ([\w.-]{0,50}?(?:name)...(?:=|>|...)...(secret)): for those an
// occurrence not followed by an assignment is rejected without the regexp.
const semiGenericOp = `(?:=|>|:{1,3}=|\|\||:|=>|\?=|,)`

// windowDetector compiles one gitleaks rule into a windowed detector.
func windowDetector(r glconfig.Rule, allow []*glconfig.Allowlist, kind, source string) (*detector, error) {
	src := r.Regex.String()
	re, err := regexp.Compile(src)
	if err != nil {
		return nil, fmt.Errorf("regex: %w", err)
	}
	tree, err := syntax.Parse(src, syntax.Perl)
	if err != nil {
		return nil, fmt.Errorf("regex: %w", err)
	}
	n := maxMatchLen(tree.Simplify())
	w := &winRule{re: re, secretGroup: r.SecretGroup, entropy: r.Entropy, pre: preKeywordSet(tree, r.Keywords),
		back: min(n, maxWinBack), fwd: min(n, maxWinFwd) + wholeValueSlack}
	w.short = newShortForms(tree, asIs)
	w.prefix = newNamePrefix(tree)
	w.lazy = newLazyBody(src, tree)
	lists := compileAllowlists(allow)
	w.allowlists = lists
	if w.lazy == nil && (*w.pre != ([256]bool{}) || spansSpaces(tree)) {
		// Costly windows (a name before the keyword, or a fixed 1 KiB):
		// reject what cannot be a keyword first. A token rule's window is
		// as cheap as the check, and so is the lazy-body path.
		w.after = newAfterCheck(tree, r.Keywords)
	}
	if len(allow) > 0 {
		w.allowed = func(secret, match, line string) bool { return allowedBy(lists, secret, match, line, true) }
		w.allowedRegex = func(secret, match, line string) bool { return allowedBy(lists, secret, match, line, false) }
	}
	switch {
	case strings.Contains(src, semiGenericOp):
		w.quickReject, w.end, w.secretAfter = notFollowedByAssignment, assignmentEnd, true
	case !spansSpaces(tree):
		w.end = tokenEnd
	}
	info := DetectorInfo{Name: r.RuleID, Kind: kind, Confidence: ruleConfidence(r, src),
		Tags: ruleTags(r, source), Keywords: r.Keywords, Source: source}
	return &detector{info: info, keywords: r.Keywords, win: w}, nil
}

// wholeValueSlack is how far past a rule's longest match a value may run
// and still be masked whole.
const wholeValueSlack = 256

// maxMatchLen bounds the bytes a match of t spans; unbounded repetitions
// count as maxWinFwd (the window cuts them there).
func maxMatchLen(t *syntax.Regexp) int {
	const rune = 4 // bytes per rune, at most
	switch t.Op {
	case syntax.OpLiteral:
		return len(string(t.Rune))
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return rune
	case syntax.OpCapture:
		return maxMatchLen(t.Sub[0])
	case syntax.OpStar, syntax.OpPlus:
		return maxWinFwd
	case syntax.OpQuest:
		return maxMatchLen(t.Sub[0])
	case syntax.OpRepeat:
		if t.Max < 0 {
			return maxWinFwd
		}
		return min(maxWinFwd, t.Max*maxMatchLen(t.Sub[0]))
	case syntax.OpConcat:
		n := 0
		for _, s := range t.Sub {
			n = min(maxWinFwd, n+maxMatchLen(s))
		}
		return n
	case syntax.OpAlternate:
		n := 0
		for _, s := range t.Sub {
			n = max(n, maxMatchLen(s))
		}
		return n
	}
	return 0 // empty-width assertions
}

// preKeywordSet is the set of bytes a secret's match may hold before its
// keyword, after at most one byte of leading context: the bytes of the
// leading elements up to the one that starts with the keyword (or the
// first that cannot be empty). runWindow takes a match only from a window
// that starts one byte before the run of such bytes preceding the keyword,
// so the set is exact by construction and tells a stream which trailing
// bytes may still become the start of a secret.
func preKeywordSet(t *syntax.Regexp, keywords []string) *[256]bool {
	var set [256]bool
	for t.Op == syntax.OpCapture {
		t = t.Sub[0]
	}
	if t.Op == syntax.OpAlternate {
		for _, alt := range t.Sub {
			for c, ok := range preKeywordSet(alt, keywords) {
				set[c] = set[c] || ok
			}
		}
		return &set
	}
	subs := []*syntax.Regexp{t}
	if t.Op == syntax.OpConcat {
		subs = t.Sub
	}
	if len(subs) > 1 && atMostOneByte(subs[0]) {
		subs = subs[1:] // leading context: the window's first byte
	}
	for _, sub := range subs {
		if startsWithKeyword(sub, keywords) {
			break
		}
		addContBytes(&set, sub)
		if minMatchLen(sub) > 0 {
			break
		}
	}
	return &set
}

func atMostOneByte(t *syntax.Regexp) bool {
	switch t.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return true
	case syntax.OpCharClass:
		return t.Rune[len(t.Rune)-1] < 0x80
	case syntax.OpLiteral:
		return len(t.Rune) == 1 && t.Rune[0] < 0x80
	case syntax.OpAlternate, syntax.OpCapture:
		for _, s := range t.Sub {
			if !atMostOneByte(s) {
				return false
			}
		}
		return true
	}
	return false
}

// startsWithKeyword: every way t can start spells one of the keywords.
func startsWithKeyword(t *syntax.Regexp, keywords []string) bool {
	switch t.Op {
	case syntax.OpCapture:
		return startsWithKeyword(t.Sub[0], keywords)
	case syntax.OpAlternate:
		for _, s := range t.Sub {
			if !startsWithKeyword(s, keywords) {
				return false
			}
		}
		return true
	}
	p := litPrefix(t)
	for _, kw := range keywords {
		if kw != "" && strings.HasPrefix(p, strings.ToLower(kw)) {
			return true
		}
	}
	return false
}

// litPrefix is the lower-cased literal text every match of t starts with.
func litPrefix(t *syntax.Regexp) string {
	switch t.Op {
	case syntax.OpLiteral:
		return strings.ToLower(string(t.Rune))
	case syntax.OpCharClass: // [Aa]
		if len(t.Rune) == 4 && t.Rune[0] == t.Rune[1] && t.Rune[2] == t.Rune[3] && t.Rune[2]-t.Rune[0] == 'a'-'A' {
			return string(rune(t.Rune[2]))
		}
	case syntax.OpCapture:
		return litPrefix(t.Sub[0])
	case syntax.OpConcat:
		var b strings.Builder
		for _, s := range t.Sub {
			p := litPrefix(s)
			b.WriteString(p)
			if p == "" || s.Op != syntax.OpLiteral && s.Op != syntax.OpCharClass {
				break
			}
		}
		return b.String()
	}
	return ""
}

func minMatchLen(t *syntax.Regexp) int {
	least, _ := runeBounds(t)
	return least
}

// runeBounds is the least and the most runes a match of t spans (most is
// -1 when unbounded; assertions span none).
func runeBounds(t *syntax.Regexp) (least, most int) {
	switch t.Op {
	case syntax.OpLiteral:
		return len(t.Rune), len(t.Rune)
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return 1, 1
	case syntax.OpCapture:
		return runeBounds(t.Sub[0])
	case syntax.OpQuest, syntax.OpStar, syntax.OpPlus, syntax.OpRepeat:
		return repeatBounds(t)
	case syntax.OpConcat, syntax.OpAlternate:
		return combineBounds(t)
	}
	return 0, 0
}

func repeatBounds(t *syntax.Regexp) (least, most int) {
	lo, hi := runeBounds(t.Sub[0])
	times, upTo := t.Min, t.Max
	switch t.Op {
	case syntax.OpQuest:
		times, upTo = 0, 1
	case syntax.OpStar:
		times, upTo = 0, -1
	case syntax.OpPlus:
		times, upTo = 1, -1
	}
	if upTo < 0 || hi < 0 {
		return times * lo, -1
	}
	return times * lo, upTo * hi
}

// combineBounds is runeBounds of a concatenation or an alternation.
func combineBounds(t *syntax.Regexp) (least, most int) {
	least = -1
	for i, s := range t.Sub {
		lo, hi := runeBounds(s)
		switch {
		case t.Op == syntax.OpConcat:
			least, most = max(least, 0)+lo, addBound(most, hi)
		case i == 0:
			least, most = lo, hi
		default:
			least, most = min(least, lo), maxBound(most, hi)
		}
	}
	return max(least, 0), most
}

func addBound(a, b int) int {
	if a < 0 || b < 0 {
		return -1
	}
	return a + b
}

func maxBound(a, b int) int {
	if a < 0 || b < 0 {
		return -1
	}
	return max(a, b)
}

// notFollowedByAssignment: after the keyword come at most ~70 name bytes
// (the rest of the name and the gap the rule allows), up to 3 quotes or
// spaces, then an assignment operator.
func notFollowedByAssignment(after []byte) bool {
	i := 0
	for i < len(after) && i < 72 && (assignmentName[after[i]] || after[i] == ' ' || after[i] == '\t') {
		i++
	}
	for k := 0; k < 3 && i < len(after) && (after[i] == '"' || after[i] == '\'' || isSpace(after[i])); k++ {
		i++
	}
	return i < len(after) && !strings.ContainsRune("=>:|,?", rune(after[i]))
}

// The window ends two bytes (a terminator such as \n) after the value:
// for an assignment, the value after the name, operator and quotes; for a
// token rule, the run of token bytes after the keyword.
var (
	gapByte   = byteSet("AZaz09", "_.- \t'\"\r\n")
	opByte    = byteSet("", "=>:|?,")
	quoteByte = byteSet("", "`'\" \t\r\n=")
	stopByte  = byteSet("", " \t\r\n'\"`;,<>(){}[]")
)

func assignmentEnd(after []byte) (int, bool) {
	i := skipRun(after, 0, gapByte, 72)
	i = skipRun(after, i, opByte, 3)
	i = skipRun(after, i, quoteByte, 5)
	return tokenRunEnd(after, i)
}

func tokenEnd(after []byte) (int, bool) { return tokenRunEnd(after, 0) }

func tokenRunEnd(after []byte, i int) (int, bool) {
	for i < len(after) && !stopByte[after[i]] {
		i++
	}
	return i + 1, i < len(after)
}

func skipRun(b []byte, i int, set *[256]bool, most int) int {
	for n := 0; i < len(b) && n < most && set[b[i]]; n++ {
		i++
	}
	return i
}

// spansSpaces says whether a match may hold white space before its final
// terminator (private keys, curl commands, YAML): such rules wait for
// their whole window.
func spansSpaces(t *syntax.Regexp) bool {
	var set [256]bool
	subs := []*syntax.Regexp{t}
	if t.Op == syntax.OpConcat {
		subs = t.Sub
		for len(subs) > 1 && maxMatchLen(subs[len(subs)-1]) <= 8 {
			subs = subs[:len(subs)-1]
		}
	}
	for _, sub := range subs {
		addContBytes(&set, sub)
	}
	return set[' '] || set['\n'] || set['\t']
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// allowedBy applies gitleaks' allowlist semantics (checkFindingAllowed);
// traffic has no commit or path, so conditions on those never hold.
func allowedBy(lists []*allowlist, secret, match, line string, stopWords bool) bool {
	var low lowered
	for _, a := range lists {
		target := secret
		switch a.RegexTarget {
		case "match":
			target = match
		case "line":
			target = line
		}
		regexOK := a.regexAllowed(target, &low)
		stop := stopWords && a.containsStopWord(secret, &low)
		if a.MatchCondition != glconfig.AllowlistMatchAnd {
			if regexOK || stop {
				return true
			}
			continue
		}
		ok := len(a.Commits) == 0 && len(a.Paths) == 0
		ok = ok && (len(a.Regexes) == 0 || regexOK) && (len(a.StopWords) == 0 || stop)
		if ok {
			return true
		}
	}
	return false
}

// ruleConfidence: a rule anchored on a provider's literal prefix is high;
// one that needs a name and an assignment (semi-generic) is medium; the
// generic rule is low.
func ruleConfidence(r glconfig.Rule, src string) string {
	switch {
	case strings.HasPrefix(r.RuleID, "generic"):
		return "low"
	case strings.Contains(src, semiGenericOp):
		return "medium"
	}
	return "high"
}

func ruleTags(r glconfig.Rule, source string) []string {
	tags := append([]string{}, r.Tags...)
	if strings.HasPrefix(source, "gitleaks") {
		tags = append(tags, "gitleaks")
	}
	provider, _, _ := strings.Cut(r.RuleID, "-")
	return append(tags, provider)
}
