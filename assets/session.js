/* 登录已超时: when a Dash request is answered 401 (the session ended: idle, 12 h, logout elsewhere,
   or the account was disabled), go to the login form and come back here afterwards (web/auth.py). */
(function () {
  var original = window.fetch;
  if (!original) { return; }
  window.fetch = function (input) {
    return original.apply(this, arguments).then(function (resp) {
      var url = typeof input === 'string' ? input : (input && input.url) || '';
      if (resp.status === 401 && url.indexOf('/_dash-') !== -1) {
        window.location.assign('/login?expired=1&next=' +
          encodeURIComponent(window.location.pathname + window.location.search));
      }
      return resp;
    });
  };
})();
