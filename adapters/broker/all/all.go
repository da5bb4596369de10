// Package all registers every broker of this module with package broker:
// import it for its side effect where brokers are chosen by name (the
// composition root). A new broker is one package under adapters/broker and
// one import line here.
package all

import (
	_ "github.com/orderflow/orderflow/adapters/broker/amqp"
	_ "github.com/orderflow/orderflow/adapters/broker/kafka"
	_ "github.com/orderflow/orderflow/adapters/broker/memory"
	_ "github.com/orderflow/orderflow/adapters/broker/nats"
	_ "github.com/orderflow/orderflow/adapters/broker/redisstream"
	_ "github.com/orderflow/orderflow/adapters/broker/sql"
)
