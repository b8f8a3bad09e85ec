package controlplane_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/controlplane"
)

// The model-driven test walks every input member of every operation in the
// official API model and, for each constraint it finds (required, length,
// pattern, range, enum, list and map size, union), sends one request that
// breaks it and requests at its boundaries.

type apiModel struct {
	Operations map[string]struct {
		HTTP struct {
			Method     string `json:"method"`
			RequestURI string `json:"requestUri"`
		} `json:"http"`
		Input *struct{ Shape string } `json:"input"`
	} `json:"operations"`
	Shapes map[string]*modelShape `json:"shapes"`
}

type modelShape struct {
	Type     string               `json:"type"`
	Required []string             `json:"required"`
	Members  map[string]memberRef `json:"members"`
	Member   *memberRef           `json:"member"`
	Key      *memberRef           `json:"key"`
	Value    *memberRef           `json:"value"`
	Min      *int                 `json:"min"`
	Max      *int                 `json:"max"`
	Pattern  string               `json:"pattern"`
	Enum     []string             `json:"enum"`
	Union    bool                 `json:"union"`
}

type memberRef struct {
	Shape    string `json:"shape"`
	Location string `json:"location"`
}

func loadModel(t testing.TB) *apiModel {
	b, err := os.ReadFile("../testdata/ivschat-service-2.json")
	if err != nil {
		t.Fatal(err)
	}
	var m apiModel
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

// gen generates member values from the model.
type gen struct {
	t testing.TB
	m *apiModel
}

// The natural values of room and logging-configuration identifiers are
// placeholders, replaced when sending by the ARNs of resources created for
// the request.
const (
	roomPlaceholder    = "{{room}}"
	loggingPlaceholder = "{{logging}}"
)

// runes vary generated strings; the first is not ASCII so that lengths are
// checked in code points.
var runes = []rune("éabcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")

// sample makes a string of n code points (n < 0: natural length) that
// matches a pattern of the model. A pattern without a sample fails the
// test: a new constraint needs a sample.
func (g *gen) sample(pattern string, n, variant int) (string, bool) {
	arn := func(prefix, existing string) (string, bool) {
		if n < 0 && variant == 0 {
			return prefix + existing, true
		}
		id := fmt.Sprintf("%012d", variant)
		if n >= 0 {
			if n < len(prefix)+1 {
				return "", false
			}
			id = (id + strings.Repeat("A", n))[:n-len(prefix)]
		}
		return prefix + id, true
	}
	fill := func(natural, pad string, minLen int) (string, bool) {
		if variant > 0 {
			natural = natural[:len(natural)-1] + string(runes[1+variant%(len(runes)-1)])
		}
		if n < 0 {
			return natural, true
		}
		if n < minLen {
			return "", false
		}
		s := natural + strings.Repeat(pad, n)
		return s[:n], true
	}
	switch pattern {
	case "arn:aws:ivschat:[a-z0-9-]+:[0-9]+:room/[a-zA-Z0-9-]+", "arn:aws:ivschat:[a-z0-9-]+:[0-9]+:[a-z-]/[a-zA-Z0-9-]+":
		return arn("arn:aws:ivschat:us-east-1:123456789012:room/", roomPlaceholder)
	case "arn:aws:ivschat:[a-z0-9-]+:[0-9]+:logging-configuration/[a-zA-Z0-9-]+":
		return arn("arn:aws:ivschat:us-east-1:123456789012:logging-configuration/", loggingPlaceholder)
	case "$|^arn:aws:lambda:[a-z0-9-]+:[0-9]{12}:function:.+.*":
		if n >= 0 && n < 50 {
			return strings.Repeat("", n), n == 0
		}
		return fill("arn:aws:lambda:us-east-1:123456789012:function:f", "f", 50)
	case "[a-zA-Z0-9-_]*":
		return fill("n", "n", 0)
	case "[a-zA-Z0-9]+":
		return fill("M2YcHkgffEvU", "A", 1)
	case "[a-z0-9-.]+":
		return fill("bucket", "b", 1)
	case "[\\.\\-_/#A-Za-z0-9]+":
		return fill("/group", "g", 1)
	case "[a-zA-Z0-9_.-]+":
		return fill("stream", "s", 1)
	}
	g.t.Fatalf("no sample for pattern %q: add one", pattern)
	return "", false
}

// str makes a valid string of shape s with n code points (n < 0: natural).
func (g *gen) str(s *modelShape, n, variant int) (string, bool) {
	if s.Enum != nil {
		return s.Enum[variant%len(s.Enum)], n < 0
	}
	if s.Pattern != "" {
		return g.sample(s.Pattern, n, variant)
	}
	if n < 0 {
		n = max(deref(s.Min), 1)
	}
	if n == 0 {
		return "", true
	}
	return string(runes[variant%len(runes)]) + strings.Repeat("é", n-1), true
}

func deref(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// valid returns the natural valid value of a shape.
func (g *gen) valid(name string, variant int) any {
	s := g.m.Shapes[name]
	switch s.Type {
	case "string":
		v, _ := g.str(s, -1, variant)
		if name == "PaginationToken" {
			v = "" // a token must come from the server: "" is the first page
		}
		return v
	case "integer":
		return max(deref(s.Min), 1)
	case "list":
		return []any{g.valid(s.Member.Shape, variant)}
	case "map":
		return map[string]any{g.valid(s.Key.Shape, variant).(string): g.valid(s.Value.Shape, variant)}
	case "structure":
		obj := map[string]any{}
		for _, m := range sortedMembers(s) {
			obj[m] = g.valid(s.Members[m].Shape, variant)
			if s.Union {
				break
			}
		}
		return obj
	}
	g.t.Fatalf("shape %s: unsupported type %s", name, s.Type)
	return nil
}

func sortedMembers(s *modelShape) []string {
	var names []string
	for n := range s.Members {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// valueCase is a value for one member: it either breaks a constraint or
// sits at a boundary.
type valueCase struct {
	what     string
	value    any
	violates bool
}

// valueCases lists the cases of a shape's own constraints and those of its
// list items and map keys and values.
func (g *gen) valueCases(name string) []valueCase {
	s := g.m.Shapes[name]
	switch s.Type {
	case "string":
		return g.stringCases(s)
	case "integer":
		var cs []valueCase
		if s.Min != nil {
			cs = append(cs, valueCase{"min-1", *s.Min - 1, true}, valueCase{"min", *s.Min, false})
		}
		if s.Max != nil {
			cs = append(cs, valueCase{"max+1", *s.Max + 1, true}, valueCase{"max", *s.Max, false})
		}
		return cs
	case "list":
		return g.listCases(s)
	case "map":
		return g.mapCases(s)
	}
	return nil
}

func (g *gen) stringCases(s *modelShape) []valueCase {
	var cs []valueCase
	add := func(what string, n int, violates bool) {
		if v, ok := g.str(s, n, 0); ok {
			cs = append(cs, valueCase{what, v, violates})
		}
	}
	if s.Min != nil {
		if *s.Min > 0 {
			add("length min-1", *s.Min-1, true)
		}
		add("length min", *s.Min, false)
	}
	if s.Max != nil {
		add("length max", *s.Max, false)
		add("length max+1", *s.Max+1, true)
	}
	if s.Pattern != "" {
		cs = append(cs, valueCase{"pattern", strings.Repeat("!", max(deref(s.Min), 1)), true})
	}
	for _, e := range s.Enum {
		cs = append(cs, valueCase{"enum " + e, e, false})
	}
	if s.Enum != nil {
		cs = append(cs, valueCase{"not in enum", "NOT_IN_ENUM", true})
	}
	return cs
}

func (g *gen) listCases(s *modelShape) []valueCase {
	items := func(n int) []any {
		l := make([]any, n)
		for i := range l {
			l[i] = g.valid(s.Member.Shape, i)
		}
		return l
	}
	var cs []valueCase
	if s.Max != nil {
		cs = append(cs, valueCase{"max items", items(*s.Max), false}, valueCase{"max+1 items", items(*s.Max + 1), true})
	}
	if s.Min != nil {
		cs = append(cs, valueCase{"min items", items(*s.Min), false})
	}
	for _, c := range g.valueCases(s.Member.Shape) {
		cs = append(cs, valueCase{"item " + c.what, []any{c.value}, c.violates})
	}
	return cs
}

func (g *gen) mapCases(s *modelShape) []valueCase {
	entries := func(n int) map[string]any {
		m := map[string]any{}
		for i := 0; i < n; i++ {
			m[g.valid(s.Key.Shape, i).(string)] = g.valid(s.Value.Shape, i)
		}
		if len(m) != n {
			g.t.Fatalf("map keys of %s are not distinct", s.Key.Shape)
		}
		return m
	}
	var cs []valueCase
	if s.Max != nil {
		cs = append(cs, valueCase{"max entries", entries(*s.Max), false}, valueCase{"max+1 entries", entries(*s.Max + 1), true})
	}
	for _, c := range g.valueCases(s.Key.Shape) {
		cs = append(cs, valueCase{"key " + c.what, map[string]any{c.value.(string): g.valid(s.Value.Shape, 0)}, c.violates})
	}
	for _, c := range g.valueCases(s.Value.Shape) {
		cs = append(cs, valueCase{"value " + c.what, map[string]any{g.valid(s.Key.Shape, 0).(string): c.value}, c.violates})
	}
	return cs
}

// step is one member on the way from the input to a nested member.
type step struct {
	name, shape string
	inUnion     bool
}

// modelCase is one request: the valid input with the member at path set to
// value (or removed).
type modelCase struct {
	path     []step
	what     string
	value    any
	remove   bool
	violates bool
}

func (c modelCase) field() string {
	var names []string
	for _, s := range c.path {
		names = append(names, s.name)
	}
	return strings.Join(names, ".")
}

// cases walks the members of structure shape name.
func (g *gen) cases(name string, path []step) []modelCase {
	s := g.m.Shapes[name]
	var cs []modelCase
	for _, m := range sortedMembers(s) {
		ms := s.Members[m].Shape
		p := append(slices.Clone(path), step{m, ms, s.Union})
		required := slices.Contains(s.Required, m)
		if required {
			cs = append(cs, modelCase{path: p, what: "required", remove: true, violates: true})
		}
		for _, vc := range g.valueCases(ms) {
			if l, ok := vc.value.([]any); ok && len(l) == 0 && s.Members[m].Location == "querystring" {
				// An empty list cannot be told from an absent one in a query.
				vc.violates = required
			}
			cs = append(cs, modelCase{path: p, what: vc.what, value: vc.value, violates: vc.violates})
		}
		sub := g.m.Shapes[ms]
		if sub.Type != "structure" {
			continue
		}
		if sub.Union {
			two := map[string]any{}
			for _, u := range sortedMembers(sub)[:2] {
				two[u] = g.valid(sub.Members[u].Shape, 0)
			}
			cs = append(cs, modelCase{path: p, what: "union without member", value: map[string]any{}, violates: true},
				modelCase{path: p, what: "union with two members", value: two, violates: true})
		}
		cs = append(cs, g.cases(ms, p)...)
	}
	return cs
}

// body returns the valid input of shape with c applied.
func (g *gen) body(input string, c modelCase) map[string]any {
	obj := g.valid(input, 0).(map[string]any)
	if len(c.path) == 0 {
		return obj
	}
	cur := obj
	for _, s := range c.path[:len(c.path)-1] {
		if s.inUnion {
			clear(cur)
		}
		next, ok := cur[s.name].(map[string]any)
		if !ok {
			next = g.valid(s.shape, 0).(map[string]any)
		}
		cur[s.name] = next
		cur = next
	}
	last := c.path[len(c.path)-1]
	if last.inUnion {
		clear(cur)
	}
	if c.remove {
		delete(cur, last.name)
	} else {
		cur[last.name] = c.value
	}
	return obj
}

func TestModelConstraints(t *testing.T) {
	e := newEnv(t, func(s *controlplane.Server) { s.Quotas.MaxLoggingConfigurations = -1 })
	m := loadModel(t)
	var ops []string
	for name := range m.Operations {
		ops = append(ops, name)
	}
	sort.Strings(ops)
	total := 0
	for _, op := range ops {
		def := m.Operations[op]
		input := def.Input.Shape
		t.Run(op, func(t *testing.T) {
			g := &gen{t: t, m: m}
			cases := append([]modelCase{{what: "natural"}}, g.cases(input, nil)...)
			total += len(cases)
			for _, c := range cases {
				r := e.send(t, m, def.HTTP.Method, def.HTTP.RequestURI, input, g.body(input, c))
				name := c.field() + " " + c.what
				switch {
				case c.violates:
					if r.status != 400 || r.errorType() != "ValidationException" || r.body["reason"] != parley.ReasonFieldValidationFailed ||
						!slices.Contains(r.fieldNames(), c.field()) {
						t.Errorf("%s: status=%d type=%s body=%.300s, want a ValidationException naming %s", name, r.status, r.errorType(), r.raw, c.field())
					}
				case len(c.path) == 0:
					if r.status >= 300 {
						t.Errorf("natural input: status=%d body=%s", r.status, r.raw)
					}
				case r.status == 400 && c.field() == "nextToken" && slices.Equal(r.fieldNames(), []string{"nextToken"}):
					// Any non-empty token not issued by the server is refused.
				case r.status >= 300 && r.errorType() != "ResourceNotFoundException":
					t.Errorf("%s: status=%d body=%.300s, want success", name, r.status, r.raw)
				}
			}
		})
	}
	if total < 150 {
		t.Fatalf("only %d cases were generated from the model", total)
	}
}

// freshResources creates a room and a logging configuration for one
// request, so that deleting operations do not change the next, and returns
// the replacer of the placeholders by their ARNs.
func (e *env) freshResources(t *testing.T) *strings.Replacer {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	lc := &parley.LoggingConfiguration{ID: parley.NewID(), State: parley.StateActive, CreateTime: now, UpdateTime: now,
		Destination: parley.DestinationConfiguration{S3: &parley.S3Destination{BucketName: "bucket"}}, Tags: map[string]string{}}
	lc.ARN = parley.ARN{Region: testRegion, AccountID: testAccount, Resource: parley.ResourceLoggingConfiguration, ID: lc.ID}.String()
	if err := e.store.CreateLoggingConfiguration(ctx, lc, 0); err != nil {
		t.Fatal(err)
	}
	r := &parley.Room{ID: parley.NewID(), MaximumMessageRatePerSecond: 10, MaximumMessageLength: 500,
		Tags: map[string]string{}, CreateTime: now, UpdateTime: now}
	r.ARN = roomARN(r.ID)
	if err := e.store.CreateRoom(ctx, r, 0); err != nil {
		t.Fatal(err)
	}
	return strings.NewReplacer(roomPlaceholder, r.ID, loggingPlaceholder, lc.ID)
}

// send sends an input as restJson1 does: uri and querystring members out of
// the body.
func (e *env) send(t *testing.T, m *apiModel, method, uri, input string, obj map[string]any) rawResponse {
	b, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	b = []byte(e.freshResources(t).Replace(string(b)))
	obj = nil
	if err := json.Unmarshal(b, &obj); err != nil {
		t.Fatal(err)
	}
	path, query := uri, url.Values{}
	body := map[string]any{}
	for name, v := range obj {
		switch m.Shapes[input].Members[name].Location {
		case "uri":
			path = strings.Replace(path, "{"+name+"}", escapeAll(v.(string)), 1)
		case "querystring":
			for _, item := range v.([]any) {
				query.Add(name, item.(string))
			}
		default:
			body[name] = v
		}
	}
	path = strings.NewReplacer("{resourceArn}", "").Replace(path)
	if len(query) > 0 {
		path += "?" + query.Encode()
	}
	var rd io.Reader
	if method == "POST" {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	return e.do(t, method, path, rd)
}
