package token

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// LoadOrCreateKey returns the KeySize-byte key stored at path, creating it
// with random bytes and mode 0600 when the file does not exist. Creation is
// atomic: the key is written to a temporary file in the same directory,
// synced, and linked into place, so a crash leaves either no file or a
// whole key, and when two processes race both end up with the key that won.
// A file of another size is an error.
func LoadOrCreateKey(path string) ([]byte, error) {
	key, err := readKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	if err := createKey(path); err != nil {
		return nil, err
	}
	return readKey(path)
}

func readKey(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read token key: %w", err)
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("read token key %s: file holds %d bytes, want %d", path, len(key), KeySize)
	}
	return key, nil
}

// createKey writes a new key to path unless a file is there already.
func createKey(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create token key: %w", err)
	}
	f, err := os.CreateTemp(dir, ".token-key-*")
	if err != nil {
		return fmt.Errorf("create token key: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after the link, this removes only the temporary name
	if err := writeSync(f, NewKey()); err != nil {
		return fmt.Errorf("create token key: %w", err)
	}
	// Link fails when path exists, so a key another process created first
	// is kept. Where hard links are not supported, fall back to rename.
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil
		}
		if err := os.Rename(tmp, path); err != nil {
			return fmt.Errorf("create token key: %w", err)
		}
	}
	return syncDir(dir)
}

// writeSync writes b to f (mode 0600, as CreateTemp makes it), syncs and
// closes it.
func writeSync(f *os.File, b []byte) error {
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncDir makes the new directory entry durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("create token key: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("create token key: sync %s: %w", dir, err)
	}
	return nil
}

// DeriveKey derives a key bound to purpose from the token key (HMAC-SHA256),
// so that every node sharing the token key also shares the derived key
// while neither reveals the other.
func DeriveKey(key []byte, purpose string) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(purpose))
	return mac.Sum(nil)
}

// NewKey returns KeySize random bytes.
func NewKey() []byte {
	key := make([]byte, KeySize)
	rand.Read(key) // never fails; panics if the system source breaks
	return key
}
