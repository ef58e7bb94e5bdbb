/** The two Electron IPC message names the bridge uses: one for calls, one for events. Channels travel inside. */
export const IPC_INVOKE = 'keydesk:invoke';
export const IPC_EVENT = 'keydesk:event';
