package mask

import (
	"bytes"
	"errors"
)

// A minimal JSON scanner that reports where values are, so masked strings
// can be spliced into the original bytes and every other byte (key order,
// whitespace, number formatting) stays identical. Callers check
// json.Valid first; the scanner still never panics on bad input.

var errJSON = errors.New("malformed json")

type member struct {
	key    string
	vs, ve int // the value's byte range
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// valueEnd returns the end of the value starting at i.
func valueEnd(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errJSON
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		return containerEnd(b, i)
	}
	for i < len(b) && !isDelimiter(b[i]) {
		i++
	}
	return i, nil
}

func isDelimiter(c byte) bool {
	return c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ':'
}

func stringEnd(b []byte, i int) (int, error) {
	for j := i + 1; j <= len(b); {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			break
		}
		q := j + k
		if escapes := backslashesBefore(b, q, i); escapes%2 == 0 {
			return q + 1, nil
		}
		j = q + 1
	}
	return 0, errJSON
}

// backslashesBefore counts the backslashes right before q, after i.
func backslashesBefore(b []byte, q, i int) int {
	n := 0
	for p := q - 1; p > i && b[p] == '\\'; p-- {
		n++
	}
	return n
}

// containerEnd skips an object or array, tracking only strings and depth.
func containerEnd(b []byte, i int) (int, error) {
	depth := 0
	for ; i < len(b); i++ {
		switch b[i] {
		case '"':
			end, err := stringEnd(b, i)
			if err != nil {
				return 0, err
			}
			i = end - 1
		case '{', '[':
			depth++
		case '}', ']':
			if depth--; depth == 0 {
				return i + 1, nil
			}
		}
	}
	return 0, errJSON
}

// members lists an object's members; i is at '{'.
func members(b []byte, i int) ([]member, error) {
	var out []member
	for i = skipSpace(b, i+1); i < len(b) && b[i] != '}'; {
		ks, err := stringEnd(b, i)
		if err != nil || b[i] != '"' {
			return nil, errJSON
		}
		key, err := decodeString(b[i:ks])
		if err != nil {
			return nil, err
		}
		i = skipSpace(b, ks)
		if i >= len(b) || b[i] != ':' {
			return nil, errJSON
		}
		vs := skipSpace(b, i+1)
		ve, err := valueEnd(b, vs)
		if err != nil {
			return nil, err
		}
		out = append(out, member{key, vs, ve})
		if i = skipSpace(b, ve); i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	return out, nil
}

// elements lists an array's element ranges; i is at '['.
func elements(b []byte, i int) ([][2]int, error) {
	var out [][2]int
	for i = skipSpace(b, i+1); i < len(b) && b[i] != ']'; {
		ve, err := valueEnd(b, i)
		if err != nil || ve == i {
			return nil, errJSON
		}
		out = append(out, [2]int{i, ve})
		if i = skipSpace(b, ve); i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	return out, nil
}
