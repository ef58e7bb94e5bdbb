import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App.tsx';
import './styles/app.css';

// Errors are values (CallError with a code): retrying would only repeat them. Events keep queries fresh.
// Mutations are forgotten as soon as no component shows them (gcTime 0): their variables hold what the analyst typed
// — secrets and passphrases — and the default would keep them in the window's memory for five minutes after a save.
const queryClient = new QueryClient({
  defaultOptions: { queries: { retry: false, staleTime: 30_000, refetchOnWindowFocus: true }, mutations: { retry: false, gcTime: 0 } }
});

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <QueryClientProvider client={queryClient}>
        <App />
      </QueryClientProvider>
    </StrictMode>
  );
}
