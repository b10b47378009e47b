// Package amqp is the AMQP 0-9-1 wire protocol: frames, every method of
// every class (generated from the spec XML that ships with amqp091-go),
// content-header properties, field tables and reply codes.
//
// It knows nothing about brokers. Decoders work on a []byte cursor and
// encoders append to a caller's slice, so that the steady state of reading
// a publish or writing a deliver does not allocate.
package amqp

//go:generate go run ./internal/specgen -o spec_gen.go
