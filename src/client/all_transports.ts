/**
 * Plugs every client transport into `connect()`: tcp:/tls: (msgpack-rpc), XML-RPC over
 * http(s):, amqp:/amqps: (amqplib is loaded only when an amqp URL is first used), and ws:/wss:
 * (JSON-RPC over WebSocket, also in "." itself).
 * Programs that connect by URL import this once instead of each transport module.
 *
 * @module
 */

import "./tcp.ts";
import "./http_xmlrpc.ts";
import "./amqp.ts";
import "./ws.ts";
