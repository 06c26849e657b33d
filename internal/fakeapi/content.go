package fakeapi

import (
	"strings"
	"unicode/utf8"
)

// block is one content block of an answer, with the pieces it is streamed in.
type block struct {
	Type      string     // text | tool_use | thinking
	Text      string     // text (and the cited text)
	Citations []citation // text blocks of the citations scenario
	ID, Name  string     // tool_use
	Input     string     // tool_use: the input JSON
	Thinking  string     // thinking
	Signature string     // thinking
	chunks    []string   // text, input or thinking in the pieces the stream sends
}

// citation is a char_location citation, as the API returns for plain-text documents.
type citation struct {
	Type           string `json:"type"`
	CitedText      string `json:"cited_text"`
	DocumentIndex  int    `json:"document_index"`
	DocumentTitle  string `json:"document_title"`
	StartCharIndex int    `json:"start_char_index"`
	EndCharIndex   int    `json:"end_char_index"`
}

// answer is the whole response a scenario produces.
type answer struct {
	blocks     []block
	stopReason string
	failAfter  int // midstream_error: deltas sent before the error event (-1: none)
}

// Deterministic fixtures: the same request always gets the same answer.
const (
	toolInput     = `{"location": "San Francisco, CA", "unit": "celsius"}`
	thinkingText  = "The user wants an answer. Let me think step by step about what they asked, then reply briefly."
	fakeSignature = "EqQBCkYIARgCIkBGQUtFLXNpZ25hdHVyZS1ub3QtcmVhbA=="
	citedText     = "The grass is green."
	loremWords    = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua "
	textQuoteMax  = 1000 // bytes of the user's text the default answer quotes
)

// chunkCycle is how text is cut when no fixed size is asked: few to ~50 bytes,
// as the API's text_delta events are.
var chunkCycle = []int{4, 11, 23, 7, 38, 16, 50, 9, 29, 3}

func (s *Server) answerFor(req *messagesRequest, p params) answer {
	a := answer{stopReason: "end_turn", failAfter: -1}
	switch p.scenario {
	case ScenarioEcho:
		a.blocks = []block{textBlock(req.allText())}
	case ScenarioToolUse:
		a.blocks = []block{textBlock("I'll look that up."), toolBlock(s.nextID("toolu_fake"), toolName(req))}
		a.stopReason = "tool_use"
	case ScenarioThinking:
		a.blocks = []block{{Type: "thinking", Thinking: thinkingText, Signature: fakeSignature}, textBlock(defaultText(req))}
	case ScenarioCitations:
		a.blocks = []block{textBlock("According to the document, "), citedBlock()}
	case ScenarioLong:
		a.blocks = []block{textBlock(loremText(p.events * p.deltaSize))}
		p.chunk = p.deltaSize
	case ScenarioAgent: // an agent's turn: it explains, then calls a tool
		a.blocks = []block{textBlock(loremText(p.events * p.deltaSize)), toolBlock(s.nextID("toolu_fake"), toolName(req))}
		a.stopReason = "tool_use"
		p.chunk = p.deltaSize
	case ScenarioBash:
		a = s.bashTurn(req)
	case ScenarioMidstreamErr:
		a.blocks = []block{textBlock(defaultText(req))}
		a.failAfter = 3
	default:
		a.blocks = []block{textBlock(defaultText(req))}
	}
	for i := range a.blocks {
		a.blocks[i].cut(p.chunk)
	}
	return a
}

func textBlock(text string) block { return block{Type: "text", Text: text} }

func toolBlock(id, name string) block {
	return block{Type: "tool_use", ID: id, Name: name, Input: toolInput}
}

func citedBlock() block {
	c := citation{Type: "char_location", CitedText: citedText, DocumentIndex: 0, DocumentTitle: "My Document",
		StartCharIndex: 0, EndCharIndex: len(citedText)}
	return block{Type: "text", Text: "the grass is green.", Citations: []citation{c}}
}

func toolName(req *messagesRequest) string {
	if len(req.Tools) > 0 && req.Tools[0].Name != "" {
		return req.Tools[0].Name
	}
	return "get_weather"
}

func defaultText(req *messagesRequest) string {
	quote := truncateUTF8(req.lastUserText(), textQuoteMax)
	if quote == "" {
		return "Hello! How can I help you today?"
	}
	return "Hello! You said: " + quote
}

func loremText(n int) string {
	var b strings.Builder
	b.Grow(n + len(loremWords))
	for b.Len() < n {
		b.WriteString(loremWords)
	}
	return b.String()[:n]
}

// cut splits the block's streamed field into chunks on UTF-8 boundaries.
func (b *block) cut(fixed int) {
	switch b.Type {
	case "text":
		b.chunks = split(b.Text, fixed)
	case "thinking":
		b.chunks = split(b.Thinking, fixed)
	case "tool_use":
		b.chunks = append([]string{""}, split(b.Input, fixed)...) // the API starts with an empty partial_json
	}
}

func split(s string, fixed int) []string {
	var out []string
	for i := 0; s != ""; i++ {
		n := fixed
		if n <= 0 {
			n = chunkCycle[i%len(chunkCycle)]
		}
		head := truncateUTF8(s, n)
		if head == "" { // a rune longer than n: send it whole
			_, size := utf8.DecodeRuneInString(s)
			head = s[:size]
		}
		out = append(out, head)
		s = s[len(head):]
	}
	return out
}

// truncateUTF8 returns at most n bytes of s without cutting a rune.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// outputTokens estimates the answer's size the way a tokenizer roughly would.
func (a answer) outputTokens() int {
	n := 0
	for _, b := range a.blocks {
		n += len(b.Text) + len(b.Input) + len(b.Thinking)
	}
	return max(1, n/4)
}
