/**
 * The entry point of a component process (`--isolate process`): the worker scope over
 * stdin/stdout first, then the same component entry a Web Worker runs.
 *
 * @module
 */

import "./process_shim.ts";
import "./worker_entry.ts";
