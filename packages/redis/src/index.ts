export { channelKey, runKeys } from './keys.js';
export { REDIS_ADAPTER_DEFAULTS, type RedisAdapterOptions } from './options.js';
export { connectionNames, redisAdapter } from './redis-adapter.js';
