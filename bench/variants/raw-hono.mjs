// Baseline for Hono: a Hono app on @hono/node-server whose routes answer ReadableStream bodies, one pre-encoded
// chunk per event enqueued to every open stream.
import { rawFetchApp, serveOnHono } from './fetch-common.mjs';

export const create = () => serveOnHono(rawFetchApp());
