package storetest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/parleychat/parley"
)

// taggable creates a resource of one kind with tags and returns its ARN.
type taggable func(t *testing.T, s parley.Store, tags map[string]string) parley.ARN

func testTags(t *testing.T, open func(t *testing.T) parley.Store) {
	kinds := map[string]taggable{
		"Room": func(t *testing.T, s parley.Store, tags map[string]string) parley.ARN {
			r := newRoom(t0)
			r.Tags = tags
			return parseARN(t, mustCreateRoom(t, s, r).ARN)
		},
		"LoggingConfiguration": func(t *testing.T, s parley.Store, tags map[string]string) parley.ARN {
			c := newLC(t0)
			c.Tags = tags
			return parseARN(t, mustCreateLC(t, s, c).ARN)
		},
	}
	for name, create := range kinds {
		t.Run(name, func(t *testing.T) { testTagsOf(t, open, create) })
	}
	t.Run("VisibleOnResource", func(t *testing.T) {
		s := open(t)
		r := mustCreateRoom(t, s, newRoom(t0))
		c := mustCreateLC(t, s, newLC(t0))
		tags := map[string]string{"a": "1"}
		for _, arn := range []string{r.ARN, c.ARN} {
			if err := s.TagResource(ctx, parseARN(t, arn), tags, parley.MaxTagsPerResource); err != nil {
				t.Fatalf("TagResource: %v", err)
			}
		}
		wantTagMap(t, mustFindRoom(t, s, r.ID).Tags, tags)
		wantTagMap(t, mustFindLC(t, s, c.ID).Tags, tags)
	})
	t.Run("ErrWrongResourceType", func(t *testing.T) {
		s := open(t)
		r := mustCreateRoom(t, s, newRoom(t0))
		arn := parseARN(t, lcARN(r.ID)) // a room's ID in a logging configuration ARN
		_, err := s.FindTags(ctx, arn)
		wantError(t, err, parley.ResourceNotFoundException, r.ID)
	})
}

func testTagsOf(t *testing.T, open func(t *testing.T) parley.Store, create taggable) {
	t.Run("FindTags", func(t *testing.T) {
		s := open(t)
		wantTags(t, s, create(t, s, map[string]string{"a": "1", "b": ""}), map[string]string{"a": "1", "b": ""})
	})
	t.Run("FindTagsNeverNil", func(t *testing.T) {
		s := open(t)
		tags, err := s.FindTags(ctx, create(t, s, nil))
		if err != nil {
			t.Fatalf("FindTags: %v", err)
		}
		if tags == nil || len(tags) != 0 {
			t.Fatalf("tags=%#v, want an empty non-nil map", tags)
		}
	})
	t.Run("TagResourceAddsAndOverwrites", func(t *testing.T) {
		s := open(t)
		arn := create(t, s, map[string]string{"a": "1", "b": "2"})
		if err := s.TagResource(ctx, arn, map[string]string{"b": "two", "c": "3"}, parley.MaxTagsPerResource); err != nil {
			t.Fatalf("TagResource: %v", err)
		}
		wantTags(t, s, arn, map[string]string{"a": "1", "b": "two", "c": "3"})
	})
	t.Run("TagResourceLimit", func(t *testing.T) {
		s := open(t)
		arn := create(t, s, map[string]string{"a": "1", "b": "2"})
		err := s.TagResource(ctx, arn, map[string]string{"a": "changed", "c": "3", "d": "4"}, 3)
		wantError(t, err, parley.ValidationException, "")
		wantTags(t, s, arn, map[string]string{"a": "1", "b": "2"}) // nothing changed
		// Overwriting does not count: this ends with exactly 3.
		if err := s.TagResource(ctx, arn, map[string]string{"a": "changed", "c": "3"}, 3); err != nil {
			t.Fatalf("TagResource up to the limit: %v", err)
		}
		wantTags(t, s, arn, map[string]string{"a": "changed", "b": "2", "c": "3"})
		if err := s.TagResource(ctx, arn, map[string]string{"b": "again"}, 3); err != nil {
			t.Fatalf("TagResource overwriting at the limit: %v", err)
		}
		wantError(t, s.TagResource(ctx, arn, map[string]string{"d": "4"}, 3), parley.ValidationException, "")
	})
	t.Run("UntagResource", func(t *testing.T) {
		s := open(t)
		arn := create(t, s, map[string]string{"a": "1", "b": "2", "c": "3"})
		if err := s.UntagResource(ctx, arn, []string{"a", "missing", "c"}); err != nil {
			t.Fatalf("UntagResource: %v", err)
		}
		wantTags(t, s, arn, map[string]string{"b": "2"})
		if err := s.UntagResource(ctx, arn, nil); err != nil {
			t.Fatalf("UntagResource(no keys): %v", err)
		}
		if err := s.UntagResource(ctx, arn, []string{"b"}); err != nil {
			t.Fatalf("UntagResource: %v", err)
		}
		wantTags(t, s, arn, map[string]string{})
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t)
		arn := create(t, s, nil)
		arn.ID = parley.NewID()
		_, err := s.FindTags(ctx, arn)
		wantError(t, err, parley.ResourceNotFoundException, arn.ID)
		err = s.TagResource(ctx, arn, map[string]string{"a": "1"}, parley.MaxTagsPerResource)
		wantError(t, err, parley.ResourceNotFoundException, arn.ID)
		err = s.UntagResource(ctx, arn, []string{"a"})
		wantError(t, err, parley.ResourceNotFoundException, arn.ID)
	})
}

func wantTags(t *testing.T, s parley.Store, arn parley.ARN, want map[string]string) {
	t.Helper()
	got, err := s.FindTags(ctx, arn)
	if err != nil {
		t.Fatalf("FindTags(%s): %v", arn, err)
	}
	if got == nil {
		t.Fatalf("FindTags(%s) returned nil", arn)
	}
	wantTagMap(t, got, want)
}

func wantTagMap(t *testing.T, got, want map[string]string) {
	t.Helper()
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Fatalf("tags mismatch (-want +got):\n%s", diff)
	}
}
