// Tidings on Bun: sseResponse() under Bun.serve, subscribing each stream to a registry channel.
import { serveOnBun, tidingsFetchApp } from './fetch-common.mjs';

export const create = async () => serveOnBun(tidingsFetchApp());
