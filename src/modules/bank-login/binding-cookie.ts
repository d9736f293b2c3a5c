/**
 * The cookie that binds a login to the browser that started it. HttpOnly and SameSite=Lax: the
 * bank's top-level redirect back carries it, a cross-site subrequest does not. `__Host-` pins it
 * to this origin and path `/` whenever it can be Secure.
 */
export function bindingCookie(secure: boolean): { name: string; options: { httpOnly: true; secure: boolean; sameSite: 'lax'; path: '/' } } {
  return { name: secure ? '__Host-tpp_login' : 'tpp_login', options: { httpOnly: true, secure, sameSite: 'lax', path: '/' } };
}
