package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// job is what the gateway accepts and the Pulsar message carries.
type job struct {
	ID    string `json:"id"`
	Input string `json:"input"`
}

// jobProcessed is the event job-worker publishes through Watermill.
type jobProcessed struct {
	ID     string `json:"id"`
	Result string `json:"result"`
}

// notification is what event-router publishes to Pub/Sub.
type notification struct {
	JobID   string `json:"job_id"`
	Message string `json:"message"`
}

func newJobID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// decodeJSON decodes a message body into v, refusing anything that is not
// one JSON object with an id.
func decodeJSON(body []byte, v any, id func() string) error {
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("malformed message: %w", err)
	}
	if strings.TrimSpace(id()) == "" {
		return errors.New("malformed message: no id")
	}
	return nil
}

// completion is what the notifier reports for a finished job.
type completion struct {
	JobID   string
	TraceID string // the trace id the notifier saw, sampled or not
	Sampled bool
}
