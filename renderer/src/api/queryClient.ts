import { QueryClient } from '@tanstack/react-query';

/**
 * The window's react-query client. The unit tests build theirs here too, so they run with the app's own defaults.
 *
 * Errors are values (CallError with a code): retrying would only repeat them. Events keep queries fresh.
 * Mutations are forgotten as soon as no component shows them (gcTime 0): their variables hold what the analyst typed
 * — secrets and passphrases — and the default would keep them in the window's memory for five minutes after a save.
 */
export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: { queries: { retry: false, staleTime: 30_000, refetchOnWindowFocus: true }, mutations: { retry: false, gcTime: 0 } }
  });
}
