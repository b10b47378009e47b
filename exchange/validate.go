package exchange

import (
	"fmt"

	"github.com/warrenmq/warren/amqp"
)

// InvalidBindingError is a binding that its exchange type refuses. The
// broker answers it with 406 PRECONDITION_FAILED and Text as the reply
// text, as RabbitMQ answers {binding_invalid, …}.
type InvalidBindingError struct {
	Text string // RabbitMQ's wording, without the reply-code prefix
}

func (e *InvalidBindingError) Error() string { return "exchange: " + e.Text }

// ValidateBinding checks binding arguments as RabbitMQ's validate_binding
// does for the exchange type kind (ValidateBindingKey also checks the key,
// which x-consistent-hash needs). Only headers exchanges check arguments:
// x-match, when present, must be the longstr "all", "any", "all-with-x" or
// "any-with-x". Routers themselves accept any arguments, so that bindings
// recovered from disk are never refused.
func ValidateBinding(kind string, args amqp.Table) error {
	if kind != KindHeaders {
		return nil
	}
	v, ok := args.Get("x-match")
	if !ok {
		return nil
	}
	s, isString := v.(string)
	if !isString {
		return &InvalidBindingError{Text: fmt.Sprintf(
			"Invalid x-match field type %v (value %v); expected longstr", typeOf(v), v)}
	}
	switch s {
	case "all", "any", "all-with-x", "any-with-x":
		return nil
	}
	return &InvalidBindingError{Text: fmt.Sprintf(
		"Invalid x-match field value %q; expected all, any, all-with-x, or any-with-x", s)}
}
