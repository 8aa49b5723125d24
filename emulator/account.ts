/** The one account and Region the emulator stands for: every ARN it reports or accepts is in them. */
export const ACCOUNT_ID = '123456789012';
export const REGION = 'us-east-1';
