package broker

import (
	"github.com/warrenmq/warren/amqp"
	"github.com/warrenmq/warren/broker/queue"
)

// txState holds what a transaction has done and not yet committed.
type txState struct {
	publishes []txPublish
	acks      []txAck
}

type txPublish struct {
	x         *Exchange
	msg       *queue.Message
	keys      []string
	mandatory bool
}

type txAck struct {
	tag      uint64
	multiple bool
	ack      bool
	requeue  bool
}

func (ch *channel) confirmSelect(m *amqp.ConfirmSelect) error {
	if ch.tx != nil {
		return amqp.NewError(amqp.PreconditionFailed, amqp.ClassConfirm, 10,
			"cannot switch from tx to confirm mode")
	}
	ch.confirm = true
	if !m.Nowait {
		ch.c.reply(ch.id, &amqp.ConfirmSelectOk{})
	}
	return nil
}

func (ch *channel) txSelect() error {
	if ch.confirm {
		return amqp.NewError(amqp.PreconditionFailed, amqp.ClassTx, 10,
			"cannot switch from confirm to tx mode")
	}
	if ch.tx == nil {
		ch.tx = &txState{}
	}
	ch.c.reply(ch.id, &amqp.TxSelectOk{})
	return nil
}

func (ch *channel) txCommit() error {
	if ch.tx == nil {
		return amqp.NewError(amqp.PreconditionFailed, amqp.ClassTx, 20, "channel is not transactional")
	}
	tx := ch.tx
	ch.tx = &txState{}
	for _, p := range tx.publishes {
		ch.route(p.x, p.msg, p.keys, p.mandatory, 0)
	}
	for _, a := range tx.acks {
		if err := ch.settle(a.tag, a.multiple, a.ack, a.requeue, amqp.MethodTxCommit); err != nil {
			return err
		}
	}
	ch.c.reply(ch.id, &amqp.TxCommitOk{})
	return nil
}

func (ch *channel) txRollback() error {
	if ch.tx == nil {
		return amqp.NewError(amqp.PreconditionFailed, amqp.ClassTx, 30, "channel is not transactional")
	}
	ch.tx = &txState{}
	ch.c.reply(ch.id, &amqp.TxRollbackOk{})
	return nil
}
