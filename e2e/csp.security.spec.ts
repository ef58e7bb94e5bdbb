// Guards: "a compromised renderer can never run injected script or send data anywhere". The policy is checked as a
// string in main/shell/csp.security.test.ts; here it is the browser that enforces it on the served app.
import { expect, test } from './harness/fixtures.ts';

test('the served app carries the CSP; injected inline handlers, remote scripts and network calls are blocked', async ({ page, kd }) => {
  kd.expectConsoleErrors(/Content Security Policy|Refused to|Failed to fetch|ERR_BLOCKED|status of 404/i);
  await kd.open();
  await expect(page.getByRole('heading', { name: 'No credentials yet' })).toBeVisible();
  const res = await page.request.get(page.url());
  const csp = res.headers()['content-security-policy'] ?? '';
  expect(csp).toContain("default-src 'none'");
  expect(csp).toContain("script-src 'self'");
  expect(csp).toContain("connect-src 'none'");

  const outcome = await page.evaluate(async () => {
    const g = globalThis as unknown as {
      document: {
        body: { insertAdjacentHTML(where: string, html: string): void };
        addEventListener(t: string, fn: (e: { violatedDirective: string }) => void): void;
      };
      pwned?: number;
      remote?: number;
      fetch(u: string): Promise<unknown>;
    };
    const violations: string[] = [];
    g.document.addEventListener('securitypolicyviolation', (e) => violations.push(e.violatedDirective));
    // An inline event handler, as an XSS payload would plant one.
    g.document.body.insertAdjacentHTML('beforeend', '<img src="/nope.png" onerror="window.pwned = 1">');
    // A frame with inline script (it inherits the policy, so its script does not run).
    g.document.body.insertAdjacentHTML('beforeend', '<iframe srcdoc="<script>parent.remote = 1</script>"></iframe>');
    let fetchBlocked = false;
    try {
      await g.fetch('http://127.0.0.1:9/exfiltrate');
    } catch {
      fetchBlocked = true;
    }
    await new Promise((r) => setTimeout(r, 300));
    return { pwned: g.pwned ?? null, remote: g.remote ?? null, fetchBlocked, violations };
  });
  expect(outcome.pwned).toBeNull();
  expect(outcome.remote).toBeNull();
  expect(outcome.fetchBlocked).toBe(true);
  expect(outcome.violations).toEqual(expect.arrayContaining(['script-src-attr', 'connect-src']));
});
