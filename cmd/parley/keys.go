package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/parleychat/parley"

	"github.com/parleychat/parley/sigv4"
	"github.com/parleychat/parley/token"
)

// credentialsFileName is where the first start writes a generated key pair.
const credentialsFileName = "credentials.json"

// Names of the secrets kept in a shared store.
const (
	secretTokenKey    = "token-key"
	secretCredentials = "credentials"
)

// secrets are what the control plane and messaging need to authenticate.
type secrets struct {
	keys     []sigv4.Key
	keysFrom string // for the start-up banner
	tokenKey []byte
}

// loadSecrets finds the API keys and the token key. On a store that several
// nodes share, what a first start generates (the key pair, the token key)
// is kept in the store, so every node accepts the same keys and opens the
// others' chat tokens; files given explicitly still win.
func (m *Main) loadSecrets(ctx context.Context) (*secrets, error) {
	c := &m.Config
	keys, from, err := loadKeys(ctx, c, m.sharedSecrets())
	if err != nil {
		return nil, err
	}
	sec := &secrets{keys: keys, keysFrom: from}
	switch shared := m.sharedSecrets(); {
	case c.Auth.TokenKeyFile == "" && shared != nil:
		sec.tokenKey, err = shared.LoadOrCreateSecret(ctx, secretTokenKey, func() ([]byte, error) { return token.NewKey(), nil })
		if err == nil && len(sec.tokenKey) != token.KeySize {
			err = fmt.Errorf("the stored key holds %d bytes, want %d", len(sec.tokenKey), token.KeySize)
		}
	default:
		sec.tokenKey, err = token.LoadOrCreateKey(c.tokenKeyPath())
	}
	if err != nil {
		return nil, fmt.Errorf("token key: %w", err)
	}
	return sec, nil
}

// loadKeys finds the API keys: the environment pair, else the credentials
// file, else a generated pair: kept in the shared store when there is one,
// else in <data-dir>/credentials.json. It returns where they came from, for
// the start-up banner.
func loadKeys(ctx context.Context, c *Config, shared parley.SecretStore) ([]sigv4.Key, string, error) {
	if c.Auth.AccessKeyID != "" {
		return []sigv4.Key{{AccessKeyID: c.Auth.AccessKeyID, SecretAccessKey: c.Auth.SecretAccessKey}},
			"PARLEY_ACCESS_KEY_ID / PARLEY_SECRET_ACCESS_KEY (all actions)", nil
	}
	if c.Auth.CredentialsFile == "" && shared != nil {
		return loadSharedKeys(ctx, shared)
	}
	path := c.Auth.CredentialsFile
	if path == "" {
		path = filepath.Join(c.DataDir, credentialsFileName)
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			k := sigv4.GenerateKey()
			data, err := encodeKeyFile(k)
			if err != nil {
				return nil, "", err
			}
			if err := writeKeyFile(path, data); err != nil {
				return nil, "", err
			}
			return []sigv4.Key{k}, generatedFrom(path, k), nil
		}
	}
	keys, err := sigv4.LoadKeyFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("credentials: %w", err)
	}
	if len(keys) == 0 {
		return nil, "", fmt.Errorf("credentials: %s holds no keys", path)
	}
	return keys, fmt.Sprintf("%s (%d keys)", path, len(keys)), nil
}

// loadSharedKeys returns the key pair kept in the shared store, generating
// it on the cluster's first start.
func loadSharedKeys(ctx context.Context, shared parley.SecretStore) ([]sigv4.Key, string, error) {
	var generated *sigv4.Key
	data, err := shared.LoadOrCreateSecret(ctx, secretCredentials, func() ([]byte, error) {
		k := sigv4.GenerateKey()
		generated = &k
		return encodeKeyFile(k)
	})
	if err != nil {
		return nil, "", fmt.Errorf("credentials: %w", err)
	}
	keys, err := sigv4.ParseKeyFile(data)
	if err != nil || len(keys) != 1 {
		return nil, "", fmt.Errorf("credentials kept in the database: %v (%d keys)", err, len(keys))
	}
	if generated != nil && generated.AccessKeyID == keys[0].AccessKeyID {
		return keys, generatedFrom("the database (shared by every node)", keys[0]), nil
	}
	return keys, fmt.Sprintf("the database (key %s, generated on the cluster's first start)", keys[0].AccessKeyID), nil
}

func generatedFrom(where string, k sigv4.Key) string {
	return fmt.Sprintf("generated into %s\n"+
		"                  export AWS_ACCESS_KEY_ID=%s\n"+
		"                  export AWS_SECRET_ACCESS_KEY=%s", where, k.AccessKeyID, k.SecretAccessKey)
}

type keyFile struct {
	Keys []keyFileEntry `json:"keys"`
}

type keyFileEntry struct {
	AccessKeyID     string   `json:"accessKeyId"`
	SecretAccessKey string   `json:"secretAccessKey"`
	Actions         []string `json:"actions"`
}

// encodeKeyFile returns a credentials file holding k with every action.
func encodeKeyFile(k sigv4.Key) ([]byte, error) {
	data, err := json.MarshalIndent(keyFile{Keys: []keyFileEntry{{
		AccessKeyID: k.AccessKeyID, SecretAccessKey: k.SecretAccessKey, Actions: []string{"ivschat:*"},
	}}}, "", "  ")
	return append(data, '\n'), err
}

// writeKeyFile writes a credentials file readable by the owner only.
func writeKeyFile(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("write credentials: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write credentials: %w", err)
	}
	return nil
}
