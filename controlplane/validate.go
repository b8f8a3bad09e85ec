package controlplane

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/parleychat/parley"
)

// strRule is the constraint of a string shape of the model. Lengths count
// Unicode code points, as Smithy's length trait does; patterns must match the
// whole value.
type strRule struct {
	min, max int // max < 0: no maximum
	re       *regexp.Regexp
	enum     []string
	// lambdaOrURL additionally accepts an http(s) URL (Parley extension
	// for review handlers).
	lambdaOrURL bool
}

func anchored(p string) *regexp.Regexp { return regexp.MustCompile(`^(?:` + p + `)$`) }

// String rules of the model's shapes. ResourceArn does not use the model's
// pattern, whose [a-z-] matches one character only: room and
// logging-configuration ARNs are accepted.
var (
	ruleRoomIdentifier = strRule{min: 1, max: 128, re: anchored(`arn:aws:ivschat:[a-z0-9-]+:[0-9]+:room/[a-zA-Z0-9-]+`)}
	ruleLogIdentifier  = strRule{min: 1, max: 128, re: anchored(`arn:aws:ivschat:[a-z0-9-]+:[0-9]+:logging-configuration/[a-zA-Z0-9-]+`)}
	ruleResourceArn    = strRule{min: 1, max: 128, re: anchored(`arn:aws:ivschat:[a-z0-9-]+:[0-9]+:(?:room|logging-configuration)/[a-zA-Z0-9-]+`)}
	ruleName           = strRule{min: 0, max: 128, re: anchored(`[a-zA-Z0-9-_]*`)}
	ruleLambdaArn      = strRule{min: 0, max: 170, re: anchored(`|arn:aws:lambda:[a-z0-9-]+:[0-9]{12}:function:.+`), lambdaOrURL: true}
	ruleID             = strRule{min: 12, max: 12, re: anchored(`[a-zA-Z0-9]+`)}
	ruleUserID         = strRule{min: 1, max: 128}
	ruleReason         = strRule{min: 1, max: 256}
	ruleEventName      = strRule{min: 1, max: 100}
	rulePaginationTok  = strRule{min: 0, max: 1024}
	ruleBucketName     = strRule{min: 3, max: 63, re: anchored(`[a-z0-9-.]+`)}
	ruleLogGroupName   = strRule{min: 1, max: 512, re: anchored(`[\.\-_/#A-Za-z0-9]+`)}
	ruleDeliveryStream = strRule{min: 1, max: 64, re: anchored(`[a-zA-Z0-9_.-]+`)}
	ruleTagKey         = strRule{min: 1, max: 128}
	ruleTagValue       = strRule{min: 0, max: 256}
	ruleAny            = strRule{min: 0, max: -1}
	ruleCapability     = strRule{max: -1, enum: []string{
		string(parley.CapabilitySendMessage), string(parley.CapabilityDisconnectUser), string(parley.CapabilityDeleteMessage)}}
	ruleFallback = strRule{max: -1, enum: []string{string(parley.FallbackAllow), string(parley.FallbackDeny)}}
)

// problem returns what is wrong with s under r, or "".
func (r strRule) problem(s string) string {
	n := utf8.RuneCountInString(s)
	switch {
	case n < r.min:
		return "must be at least " + strconv.Itoa(r.min) + " characters long"
	case r.max >= 0 && n > r.max:
		return "must be at most " + strconv.Itoa(r.max) + " characters long"
	}
	if r.enum != nil {
		for _, e := range r.enum {
			if s == e {
				return ""
			}
		}
		return "must be one of " + strings.Join(r.enum, ", ")
	}
	if r.lambdaOrURL && isHTTPURL(s) {
		return ""
	}
	if r.re != nil && !r.re.MatchString(s) {
		return "must match the pattern " + r.re.String()
	}
	return ""
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// checkStr records a violation of member name when s breaks r.
func (f *fields) checkStr(name string, s string, r strRule) {
	if p := r.problem(s); p != "" {
		f.fail(name, "%s", p)
	}
}

// strOf decodes and checks a string member.
func (f *fields) strOf(name string, r strRule) *string {
	s := f.str(name)
	if s != nil {
		f.checkStr(name, *s, r)
	}
	return s
}

// intIn decodes an integer member and checks min ≤ value ≤ max.
func (f *fields) intIn(name string, min, max int) *int {
	n := f.integer(name)
	if n != nil && (*n < min || *n > max) {
		f.fail(name, "must be between %d and %d", min, max)
	}
	return n
}

// listOf decodes a list of strings, checking its size and every item.
func (f *fields) listOf(name string, maxItems int, item strRule) *[]string {
	l := f.strList(name)
	if l == nil {
		return nil
	}
	if maxItems >= 0 && len(*l) > maxItems {
		f.fail(name, "must have at most %d items", maxItems)
	}
	for _, s := range *l {
		if p := item.problem(s); p != "" {
			f.fail(name, "item %q %s", s, p)
			break
		}
	}
	return l
}

// mapOf decodes a map of strings, checking its size and every entry.
func (f *fields) mapOf(name string, maxEntries int, key, value strRule) map[string]string {
	m := f.strMap(name)
	if m == nil {
		return nil
	}
	if maxEntries >= 0 && len(m) > maxEntries {
		f.fail(name, "must have at most %d entries", maxEntries)
	}
	for k, v := range m {
		if p := key.problem(k); p != "" {
			f.fail(name, "key %q %s", k, p)
			break
		}
		if p := value.problem(v); p != "" {
			f.fail(name, "value of %q %s", k, p)
			break
		}
	}
	return m
}

// attributes decodes a chat-token or event attribute map, whose keys and
// values together may hold at most parley.MaxAttributesSize bytes.
func (f *fields) attributes(name string) map[string]string {
	m := f.mapOf(name, -1, ruleAny, ruleAny)
	if m != nil && parley.AttributesSize(m) > parley.MaxAttributesSize {
		f.fail(name, "must total at most %d bytes", parley.MaxAttributesSize)
	}
	return m
}
