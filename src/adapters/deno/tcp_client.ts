/**
 * The msgpack-rpc client on Deno's sockets: installs `dial` for every `TcpTransport` and so
 * plugs `tcp:` and `tls:` into `connect()`. Imported for its effect by the `./tcp` and
 * `./server` entries.
 *
 * @module
 */

import { installDial } from "../../client/_tcp_dial.ts";
import { dial } from "./tcp.ts";
import "../../client/tcp.ts";

installDial(dial);
