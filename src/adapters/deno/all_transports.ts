/**
 * Plugs every client transport into `connect()`: tcp:/tls: (msgpack-rpc on Deno's sockets),
 * XML-RPC over http(s):, amqp:/amqps: (amqplib is loaded only when an amqp URL is first
 * used), and ws:/wss: (JSON-RPC over WebSocket, also in "." itself). Programs that connect
 * by URL import this once instead of each transport module.
 *
 * @module
 */

import "./tcp_client.ts";
import "../../client/http_xmlrpc.ts";
import "../../client/amqp.ts";
import "../../client/ws.ts";
