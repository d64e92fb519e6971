// The login form, shown when the REST API answers 401 (basic.authentication: true). kuiperd has
// no user database: the user pastes a JWT signed RS256 by a key whose public half is in
// etc/mgmt/ (claims iss = that file's name, aud = "eKuiper"). It is checked with GET /api/ and
// kept in sessionStorage for this tab only.
import { h, replace } from '../dom.js';
import { api, setToken, token } from '../api.js';

export function render(main, { afterLogin }) {
  const input = h('textarea.code', { name: 'token', rows: 5, placeholder: 'eyJhbGciOiJSUzI1NiIs…', 'aria-label': 'JWT' });
  input.value = token();
  const msg = h('div');
  async function submit(ev) {
    ev.preventDefault();
    setToken(input.value);
    try {
      await api('GET', '/');
      location.hash = afterLogin && afterLogin !== '#/login' ? afterLogin : '#/streams';
    } catch (e) {
      setToken('');
      replace(msg, h('div.error-box', { 'data-testid': 'login-error' }, e.message));
    }
  }
  main.append(
    h('h1', 'Sign in'),
    h('form.card', { onsubmit: submit },
      h('p', 'This kuiperd requires authentication (', h('code', 'basic.authentication: true'), '). Paste a JWT signed with ',
        'RS256 by a key whose public half is in ', h('code', 'etc/mgmt/'), ', with ', h('code', 'iss'), ' set to that file\'s name and ',
        h('code', 'aud'), ' set to ', h('code', 'eKuiper'), '. It is kept in this browser tab only.'),
      h('label.field', 'Token', input),
      msg,
      h('button.primary', { type: 'submit' }, 'Sign in')));
  input.focus();
}
