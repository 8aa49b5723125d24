/**
 * The account an emulator stands for, and its Region unless it is started with another (`region`): every ARN it
 * reports or accepts is in them. Two emulators with two Regions stand for one account's endpoints in two Regions.
 */
export const ACCOUNT_ID = '123456789012';
export const DEFAULT_REGION = 'us-east-1';
