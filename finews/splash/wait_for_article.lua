-- Render a share page and return its HTML as soon as the article is in the DOM.
-- args: url, max_wait (seconds, a hard limit), allowed_hosts (the only hosts the page may load from).
function main(splash, args)
  local allowed = {}
  for _, host in ipairs(args.allowed_hosts or {}) do allowed[host] = true end
  splash:on_request(function(request)
    local host = request.url:match("^%a+://([^/:]+)")
    if host and not allowed[host] then request.abort() end
  end)
  splash.images_enabled = false
  local ok, reason = splash:go(args.url)
  if not ok then
    return {ok = false, reason = reason or "load failed", html = ""}
  end
  local ready = [[(function () {
    var body = document.getElementById('ContentBody');
    var error = document.getElementById('newsError');
    if (body && body.innerHTML.replace(/\s/g, '').length > 0) return 'article';
    if (error && error.style.display == 'block') return 'error';
    return '';
  })()]]
  local waited = 0
  local state = splash:evaljs(ready)
  while state == '' and waited < (args.max_wait or 10) do
    splash:wait(0.05)
    waited = waited + 0.05
    state = splash:evaljs(ready)
  end
  return {ok = state == 'article', reason = state == '' and 'timeout' or state, html = splash:html(),
          waited = waited}
end
