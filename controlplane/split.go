package controlplane

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// The functions of this file split JSON that json.Valid accepted into its
// members without reflection or copies: the request bodies of the hot
// operations (CreateChatToken, SendEvent) are small flat objects. Each
// reports false for anything it does not handle the way encoding/json would
// (escaped or invalid UTF-8 keys), and the caller then falls back to
// json.Unmarshal, so results and error messages are the same either way.

// splitObject returns the members of the JSON object v (valid JSON, leading
// white space allowed); a later duplicate key wins, as with json.Unmarshal.
// The values alias v.
func splitObject(v []byte) (map[string]json.RawMessage, bool) {
	i := skipSpace(v, 0)
	if i >= len(v) || v[i] != '{' {
		return nil, false
	}
	m := make(map[string]json.RawMessage, 8)
	i = skipSpace(v, i+1)
	if i < len(v) && v[i] == '}' {
		return m, true
	}
	for i < len(v) {
		end := stringEnd(v, i)
		key := v[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 || !utf8.Valid(key) {
			return nil, false
		}
		i = skipSpace(v, end)
		i = skipSpace(v, i+1) // past ':'
		vEnd := valueEnd(v, i)
		m[string(key)] = v[i:vEnd]
		i = skipSpace(v, vEnd)
		if v[i] == '}' {
			return m, true
		}
		i = skipSpace(v, i+1) // past ','
	}
	return nil, false
}

// splitArray returns the items of the JSON array v (valid JSON). The items
// alias v.
func splitArray(v []byte) ([]json.RawMessage, bool) {
	i := skipSpace(v, 0)
	if i >= len(v) || v[i] != '[' {
		return nil, false
	}
	var items []json.RawMessage
	i = skipSpace(v, i+1)
	if i < len(v) && v[i] == ']' {
		return []json.RawMessage{}, true
	}
	for i < len(v) {
		end := valueEnd(v, i)
		items = append(items, v[i:end])
		i = skipSpace(v, end)
		if v[i] == ']' {
			return items, true
		}
		i = skipSpace(v, i+1) // past ','
	}
	return nil, false
}

// plainString returns the contents of the JSON string v when it needs no
// unescaping and is valid UTF-8, which json.Unmarshal would otherwise
// repair.
func plainString(v []byte) (string, bool) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", false
	}
	s := v[1 : len(v)-1]
	if bytes.IndexByte(s, '\\') >= 0 || !utf8.Valid(s) {
		return "", false
	}
	return string(s), true
}

func skipSpace(v []byte, i int) int {
	for i < len(v) && (v[i] == ' ' || v[i] == '\t' || v[i] == '\n' || v[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just past the JSON string that starts at i.
func stringEnd(v []byte, i int) int {
	for i++; i < len(v); i++ {
		switch v[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(v)
}

// valueEnd returns the index just past the JSON value that starts at i.
func valueEnd(v []byte, i int) int {
	switch v[i] {
	case '"':
		return stringEnd(v, i)
	case '{', '[':
		depth := 0
		for ; i < len(v); i++ {
			switch v[i] {
			case '"':
				i = stringEnd(v, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return len(v)
	}
	for i < len(v) && v[i] != ',' && v[i] != '}' && v[i] != ']' &&
		v[i] != ' ' && v[i] != '\t' && v[i] != '\n' && v[i] != '\r' {
		i++
	}
	return i
}
