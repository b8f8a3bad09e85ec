package loadtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/parleychat/parley"
)

// controlPlane calls the IVS Chat control plane (restJson1, SigV4 with
// service name "ivschat").
type controlPlane struct {
	base   string // http://host:port, no trailing slash
	region string
	creds  aws.Credentials
	signer *v4.Signer
	http   *http.Client

	retries atomic.Uint64 // tries repeated after throttling or a server error
}

func newControlPlane(base, region, accessKey, secretKey string, conns int) *controlPlane {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = conns
	tr.MaxConnsPerHost = conns
	return &controlPlane{
		base:   strings.TrimRight(base, "/"),
		region: region,
		creds:  aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey},
		signer: v4.NewSigner(),
		http:   &http.Client{Transport: tr, Timeout: 30 * time.Second},
	}
}

// call POSTs in as JSON to /op and decodes the answer into out (if not nil).
// A non-2xx answer becomes a *parley.Error coded by its x-amzn-ErrorType.
// Throttling and server errors are retried with exponential backoff and
// jitter, as the AWS SDKs do, up to maxAttempts times.
func (cp *controlPlane) call(ctx context.Context, op string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("%s: encode: %w", op, err)
	}
	backoff := 50 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := cp.try(ctx, op, body, out)
		if attempt == maxAttempts || !retryable(err) {
			return err
		}
		cp.retries.Add(1)
		if !sleepUntil(ctx, time.Now().Add(backoff/2+rand.N(backoff/2))) {
			return err
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// maxAttempts bounds the tries of one control-plane call.
const maxAttempts = 10

// retryable reports whether err is worth another try: throttling or a 5xx.
func retryable(err error) bool {
	var pe *parley.Error
	if !errors.As(err, &pe) {
		return false
	}
	return pe.Code == parley.ThrottlingException || pe.Code == parley.InternalServerException ||
		strings.HasPrefix(string(pe.Code), "HTTP5")
}

// try makes one attempt of call.
func (cp *controlPlane) try(ctx context.Context, op string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cp.base+"/"+op, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256(body)
	if err := cp.signer.SignHTTP(ctx, cp.creds, req, hex.EncodeToString(sum[:]), "ivschat", cp.region, time.Now()); err != nil {
		return fmt.Errorf("%s: sign: %w", op, err)
	}
	resp, err := cp.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%s: read answer: %w", op, err)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: %w", op, decodeError(resp, data))
	}
	if out == nil || len(data) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s: decode answer: %w", op, err)
	}
	return nil
}

// decodeError turns a control-plane error answer into a *parley.Error.
func decodeError(resp *http.Response, body []byte) *parley.Error {
	var e struct {
		Message  string `json:"message"`
		MessageU string `json:"Message"`
	}
	_ = json.Unmarshal(body, &e) // a body that is not JSON leaves the message empty
	code := resp.Header.Get("X-Amzn-Errortype")
	if i := strings.IndexAny(code, ":"); i >= 0 {
		code = code[:i]
	}
	if code == "" {
		code = fmt.Sprintf("HTTP%d", resp.StatusCode)
	}
	msg := e.Message + e.MessageU
	if msg == "" {
		msg = strings.TrimSpace(string(body))
	}
	return parley.Errorf(parley.ErrorCode(code), "%s (HTTP %d)", msg, resp.StatusCode)
}

// createRoom creates a room and returns its ARN.
func (cp *controlPlane) createRoom(ctx context.Context, name string, ratePerSecond, maxLength int) (string, error) {
	in := map[string]any{
		"name":                        name,
		"maximumMessageRatePerSecond": ratePerSecond,
		"maximumMessageLength":        maxLength,
		"tags":                        map[string]string{"parley-bench": "true"},
	}
	var out struct {
		Arn string `json:"arn"`
	}
	if err := cp.call(ctx, "CreateRoom", in, &out); err != nil {
		return "", err
	}
	if out.Arn == "" {
		return "", errors.New("CreateRoom: answer has no arn")
	}
	return out.Arn, nil
}

// deleteRoom deletes a room.
func (cp *controlPlane) deleteRoom(ctx context.Context, arn string) error {
	return cp.call(ctx, "DeleteRoom", map[string]string{"identifier": arn}, nil)
}

// createChatToken returns a chat token for userID in the room.
func (cp *controlPlane) createChatToken(ctx context.Context, roomARN, userID string, send bool, sessionMinutes int) (string, error) {
	caps := []string{}
	if send {
		caps = append(caps, "SEND_MESSAGE")
	}
	in := map[string]any{
		"roomIdentifier":           roomARN,
		"userId":                   userID,
		"capabilities":             caps,
		"sessionDurationInMinutes": sessionMinutes,
	}
	var out struct {
		Token string `json:"token"`
	}
	if err := cp.call(ctx, "CreateChatToken", in, &out); err != nil {
		return "", err
	}
	if out.Token == "" {
		return "", errors.New("CreateChatToken: answer has no token")
	}
	return out.Token, nil
}

// credentialsFile is the layout of <data-dir>/credentials.json.
type credentialsFile struct {
	Keys []struct {
		AccessKeyID     string   `json:"accessKeyId"`
		SecretAccessKey string   `json:"secretAccessKey"`
		Actions         []string `json:"actions"`
	} `json:"keys"`
}

// keyFromDataDir returns the first key of <dir>/credentials.json that may
// call CreateRoom and CreateChatToken (any key if none says so).
func keyFromDataDir(dir string) (access, secret string, err error) {
	path := filepath.Join(dir, "credentials.json")
	data, err := os.ReadFile(path)
	if err != nil {
		return "", "", fmt.Errorf("read credentials: %w", err)
	}
	var f credentialsFile
	if err := json.Unmarshal(data, &f); err != nil {
		return "", "", fmt.Errorf("parse %s: %w", path, err)
	}
	if len(f.Keys) == 0 {
		return "", "", fmt.Errorf("%s holds no keys", path)
	}
	for _, k := range f.Keys {
		if allows(k.Actions, "CreateRoom") && allows(k.Actions, "CreateChatToken") {
			return k.AccessKeyID, k.SecretAccessKey, nil
		}
	}
	return f.Keys[0].AccessKeyID, f.Keys[0].SecretAccessKey, nil
}

// allows reports whether an action list grants ivschat:op. An empty list
// counts as everything.
func allows(actions []string, op string) bool {
	return len(actions) == 0 || slices.ContainsFunc(actions, func(a string) bool {
		return a == "*" || a == "ivschat:*" || a == "ivschat:"+op
	})
}
