/**
 * msgpack-rpc through RabbitMQ for Switchboard clients: importing this module lets
 * `connect()` speak `amqp://` and `amqps://` (calls wait in durable per-interface queues for
 * any number of competing workers). amqplib is loaded on the first connection.
 *
 * @example
 * ```ts ignore
 * import { connect } from "@switchboard/rpc";
 * import "@switchboard/rpc/amqp";
 *
 * const client = connect("amqp://127.0.0.1");
 * console.log(await client.call("Calculator.add", { a: 1, b: 2 }, { timeout: 5000 }));
 * await client.close();
 * ```
 *
 * @module
 */

export { AmqpTransport } from "./src/client/amqp.ts";
export type { AmqpConnectOptions } from "./src/client/amqp.ts";
