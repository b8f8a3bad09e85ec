package controlplane

import "github.com/parleychat/parley"

// roomJSON is a room as GetRoom (and CreateRoom, UpdateRoom) return it, and
// as ListRooms returns it without the two maximums (RoomSummary).
type roomJSON struct {
	ARN                             string            `json:"arn"`
	ID                              string            `json:"id"`
	Name                            string            `json:"name"`
	CreateTime                      string            `json:"createTime"`
	UpdateTime                      string            `json:"updateTime"`
	MaximumMessageRatePerSecond     int               `json:"maximumMessageRatePerSecond,omitempty"`
	MaximumMessageLength            int               `json:"maximumMessageLength,omitempty"`
	MessageReviewHandler            *handlerJSON      `json:"messageReviewHandler,omitempty"`
	Tags                            map[string]string `json:"tags"`
	LoggingConfigurationIdentifiers []string          `json:"loggingConfigurationIdentifiers"`
}

type handlerJSON struct {
	URI            string `json:"uri"`
	FallbackResult string `json:"fallbackResult"`
}

func roomResponse(r *parley.Room) *roomJSON {
	j := roomSummary(r)
	j.MaximumMessageRatePerSecond = r.MaximumMessageRatePerSecond
	j.MaximumMessageLength = r.MaximumMessageLength
	return j
}

func roomSummary(r *parley.Room) *roomJSON {
	j := &roomJSON{
		ARN: r.ARN, ID: r.ID, Name: r.Name,
		CreateTime: parley.FormatTime(r.CreateTime), UpdateTime: parley.FormatTime(r.UpdateTime),
		Tags: r.Tags, LoggingConfigurationIdentifiers: r.LoggingConfigurationIdentifiers,
	}
	if j.Tags == nil {
		j.Tags = map[string]string{}
	}
	if j.LoggingConfigurationIdentifiers == nil {
		j.LoggingConfigurationIdentifiers = []string{}
	}
	if h := r.MessageReviewHandler; h != nil && h.URI != "" {
		fb := string(h.FallbackResult)
		if fb == "" {
			fb = string(parley.FallbackAllow)
		}
		j.MessageReviewHandler = &handlerJSON{URI: h.URI, FallbackResult: fb}
	}
	return j
}

// loggingJSON is a logging configuration as every operation returns it
// (LoggingConfigurationSummary has the same members).
type loggingJSON struct {
	ARN                      string                          `json:"arn"`
	ID                       string                          `json:"id"`
	CreateTime               string                          `json:"createTime"`
	UpdateTime               string                          `json:"updateTime"`
	Name                     string                          `json:"name"`
	DestinationConfiguration parley.DestinationConfiguration `json:"destinationConfiguration"`
	State                    string                          `json:"state"`
	Tags                     map[string]string               `json:"tags"`
}

func loggingResponse(c *parley.LoggingConfiguration) *loggingJSON {
	j := &loggingJSON{
		ARN: c.ARN, ID: c.ID, Name: c.Name,
		CreateTime: parley.FormatTime(c.CreateTime), UpdateTime: parley.FormatTime(c.UpdateTime),
		DestinationConfiguration: c.Destination, State: c.State, Tags: c.Tags,
	}
	if j.State == "" {
		j.State = parley.StateActive
	}
	if j.Tags == nil {
		j.Tags = map[string]string{}
	}
	return j
}
