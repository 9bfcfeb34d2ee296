// better-sse 0.16's Fetch adapter on Hono (@hono/node-server): createResponse() sessions in one channel.
import { betterSseFetchApp, serveOnHono } from './fetch-common.mjs';

export const create = () => serveOnHono(betterSseFetchApp());
