// better-sse 0.16's Fetch adapter under Bun.serve: createResponse() sessions in one channel.
import { betterSseFetchApp, serveOnBun } from './fetch-common.mjs';

export const create = async () => serveOnBun(betterSseFetchApp());
