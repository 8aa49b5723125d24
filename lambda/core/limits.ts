/** AWS: a Username terminate "can only be used if the user has established up to five connections". */
export const MAX_CONNECTIONS_PER_USERNAME_CALL = 5;
