package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/parleychat/parley/sigv4"
)

// credentialsFileName is where the first start writes a generated key pair.
const credentialsFileName = "credentials.json"

// loadKeys finds the API keys: the environment pair, else the credentials
// file, else <data-dir>/credentials.json, generated when missing. It returns
// where they came from, for the start-up banner.
func loadKeys(c *Config) ([]sigv4.Key, string, error) {
	if c.AccessKeyID != "" {
		return []sigv4.Key{{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey}},
			"PARLEY_ACCESS_KEY_ID / PARLEY_SECRET_ACCESS_KEY (all actions)", nil
	}
	path := c.CredentialsFile
	if path == "" {
		path = filepath.Join(c.DataDir, credentialsFileName)
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			k := sigv4.GenerateKey()
			if err := writeKeyFile(path, k); err != nil {
				return nil, "", err
			}
			return []sigv4.Key{k}, fmt.Sprintf("generated into %s\n"+
				"                  export AWS_ACCESS_KEY_ID=%s\n"+
				"                  export AWS_SECRET_ACCESS_KEY=%s", path, k.AccessKeyID, k.SecretAccessKey), nil
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

type keyFile struct {
	Keys []keyFileEntry `json:"keys"`
}

type keyFileEntry struct {
	AccessKeyID     string   `json:"accessKeyId"`
	SecretAccessKey string   `json:"secretAccessKey"`
	Actions         []string `json:"actions"`
}

// writeKeyFile writes one key with every action, readable by the owner only.
func writeKeyFile(path string, k sigv4.Key) error {
	data, err := json.MarshalIndent(keyFile{Keys: []keyFileEntry{{
		AccessKeyID: k.AccessKeyID, SecretAccessKey: k.SecretAccessKey, Actions: []string{"ivschat:*"},
	}}}, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("write credentials: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write credentials: %w", err)
	}
	return nil
}
