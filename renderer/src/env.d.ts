// Stylesheets are imported for their side effect (Vite emits them as files; the CSP forbids inline styles).
declare module '*.css';
