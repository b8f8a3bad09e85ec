package controlplane

import (
	"context"
	"errors"
	"fmt"

	"github.com/parleychat/parley"
)

// tagsInput is the input of the three tag operations.
type tagsInput struct {
	arn  string
	tags map[string]string
	keys []string
}

func (in *tagsInput) resourceARN() string { return in.arn }

// decodeTagsPath checks the {resourceArn} label.
func decodeTagsPath(req *request) (*fields, *tagsInput, error) {
	f, err := parseBody(req.body)
	if err != nil {
		return nil, nil, err
	}
	in := &tagsInput{arn: req.arn}
	if req.arn == "" {
		f.fail("resourceArn", "is required")
	} else {
		f.checkStr("resourceArn", req.arn, ruleResourceArn)
	}
	return f, in, nil
}

func decodeListTags(s *Server, req *request) (*tagsInput, error) {
	// GET carries no body: whatever was sent is ignored.
	f, in, err := decodeTagsPath(&request{arn: req.arn})
	if err != nil {
		return nil, err
	}
	return in, f.err()
}

func decodeTagResource(s *Server, req *request) (*tagsInput, error) {
	f, in, err := decodeTagsPath(req)
	if err != nil {
		return nil, err
	}
	f.required("tags")
	in.tags = f.mapOf("tags", parley.MaxTagsPerResource, ruleTagKey, ruleTagValue)
	return in, f.err()
}

func decodeUntagResource(s *Server, req *request) (*tagsInput, error) {
	f, in, err := decodeTagsPath(&request{arn: req.arn})
	if err != nil {
		return nil, err
	}
	keys, ok := req.query["tagKeys"]
	switch {
	case !ok:
		f.fail("tagKeys", "is required")
	case len(keys) > parley.MaxTagsPerResource:
		f.fail("tagKeys", "must have at most %d items", parley.MaxTagsPerResource)
	}
	for _, k := range keys {
		if p := ruleTagKey.problem(k); p != "" {
			f.fail("tagKeys", "item %q %s", k, p)
			break
		}
	}
	in.keys = keys
	return in, f.err()
}

// resource resolves a tag operation's ARN to one of this server's
// resources.
func (s *Server) resource(arn string) (parley.ARN, error) {
	a, err := parley.ParseARN(arn)
	if err != nil {
		a.Resource = parley.ResourceRoom
	}
	if _, err := s.resolve(arn, a.Resource); err != nil {
		return parley.ARN{}, err
	}
	return a, nil
}

// tagsResponse is the output of ListTagsForResource.
type tagsResponse struct {
	Tags map[string]string `json:"tags"`
}

func (s *Server) listTags(ctx context.Context, in *tagsInput) (any, error) {
	a, err := s.resource(in.arn)
	if err != nil {
		return nil, err
	}
	tags, err := s.Store.FindTags(ctx, a)
	if err != nil {
		return nil, fmt.Errorf("find tags: %w", err)
	}
	if tags == nil {
		tags = map[string]string{}
	}
	return &tagsResponse{Tags: tags}, nil
}

func (s *Server) tagResource(ctx context.Context, in *tagsInput) (any, error) {
	a, err := s.resource(in.arn)
	if err != nil {
		return nil, err
	}
	err = s.Store.TagResource(ctx, a, in.tags, parley.MaxTagsPerResource)
	var pe *parley.Error
	if errors.As(err, &pe) && pe.Code == parley.ValidationException && len(pe.Fields) == 0 {
		return nil, parley.FieldErrorf("tags", "a resource can have at most %d tags", parley.MaxTagsPerResource)
	}
	if err != nil {
		return nil, fmt.Errorf("tag resource: %w", err)
	}
	return struct{}{}, nil
}

func (s *Server) untagResource(ctx context.Context, in *tagsInput) (any, error) {
	a, err := s.resource(in.arn)
	if err != nil {
		return nil, err
	}
	if err := s.Store.UntagResource(ctx, a, in.keys); err != nil {
		return nil, fmt.Errorf("untag resource: %w", err)
	}
	return struct{}{}, nil
}
