import { confirmPage } from '../../src/modules/bank-login/confirm-page.js';
import { userLabel } from '../../src/modules/identity/user-label.js';

describe('the confirmation page', () => {
  it('escapes every value it shows and posts back to the login route of its bank', () => {
    const html = confirmPage({ aspspId: 'flowe', bankName: 'Flowe <b>&</b>', userLabel: '"><script>alert(1)</script>', confirmation: 'tok_en-1' });
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<b>');
    expect(html).toContain('&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('<form method="post" action="/auth/flowe/login">');
    expect(html).toContain('<input type="hidden" name="confirmation" value="tok_en-1">');
    expect(html).toMatch(/<button type="submit" name="decision" value="continue">/);
    expect(html).not.toMatch(/<script|<iframe|\son\w+=/i);
  });
});

describe('the user label', () => {
  it('prefers email, then preferred_username, then name, then sub', () => {
    expect(userLabel({ sub: 's', name: 'Ann', preferred_username: 'ann1', email: 'ann@example.com' }, 's')).toBe('ann@example.com');
    expect(userLabel({ sub: 's', name: 'Ann', preferred_username: 'ann1' }, 's')).toBe('ann1');
    expect(userLabel({ sub: 's', name: 'Ann' }, 's')).toBe('Ann');
    expect(userLabel({ sub: 'user-42', email: 42 }, 'user-42')).toBe('user-42');
  });

  it('drops control, bidi, zero-width and separator characters and caps the length', () => {
    expect(userLabel({ name: 'Ann\u202Eevil\u200B\u2028\nBob\u0007' }, 's')).toBe('Annevil Bob');
    expect(userLabel({ name: '\u202E\u200B' }, 'fallback')).toBe('fallback');
    expect([...userLabel({ name: 'x'.repeat(500) }, 's')]).toHaveLength(100);
  });
});
