package parley

import "time"

// LoggingConfigurationState values.
const (
	StateActive = "ACTIVE"
)

// LoggingConfiguration says where a room's messages and events are logged.
type LoggingConfiguration struct {
	ID          string
	ARN         string
	Name        string
	Destination DestinationConfiguration
	State       string
	Tags        map[string]string
	CreateTime  time.Time
	UpdateTime  time.Time
}

// DestinationConfiguration is a union: exactly one member is set.
type DestinationConfiguration struct {
	S3             *S3Destination             `json:"s3,omitempty"`
	CloudWatchLogs *CloudWatchLogsDestination `json:"cloudWatchLogs,omitempty"`
	Firehose       *FirehoseDestination       `json:"firehose,omitempty"`
}

// S3Destination logs to an S3 bucket.
type S3Destination struct {
	BucketName string `json:"bucketName"`
}

// CloudWatchLogsDestination logs to a CloudWatch Logs log group.
type CloudWatchLogsDestination struct {
	LogGroupName string `json:"logGroupName"`
}

// FirehoseDestination logs to a Kinesis Data Firehose delivery stream.
type FirehoseDestination struct {
	DeliveryStreamName string `json:"deliveryStreamName"`
}

// LoggingConfigurationUpdate is a patch for UpdateLoggingConfiguration: nil
// members are left unchanged.
type LoggingConfigurationUpdate struct {
	Name        *string
	Destination *DestinationConfiguration
}

// LoggingConfigurationFilter selects logging configurations, sorted like
// rooms by (UpdateTime desc, ID desc).
type LoggingConfigurationFilter struct {
	After *Cursor
	Limit int // zero means no limit
}
