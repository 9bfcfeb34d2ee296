// Baseline for Bun: Bun.serve answering ReadableStream bodies, one pre-encoded chunk per event enqueued to every
// open stream.
import { rawFetchApp, serveOnBun } from './fetch-common.mjs';

export const create = async () => serveOnBun(rawFetchApp());
