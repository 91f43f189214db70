export * from './access-review-instance';
export * from './guest-deletion';
export * from './review-series';
