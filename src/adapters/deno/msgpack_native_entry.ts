/**
 * Loads msgpackr's Node entry, which finds its native decoder add-on and hands it to every
 * decoder (see `msgpack_native.ts`, the only importer, which checks permissions first).
 *
 * @module
 */

import "msgpackr";
