/** An invalid or unsupported config.json field: the message names the field. */
export class ConfigError extends Error {}
