"""Uses the client generated from Quiver's /openapi.json, as an integrator would: log in,
find a product, create a link, read it back."""

import importlib
import pkgutil
import sys

base = sys.argv[1]

# The generated package is named after the document's title ("Quiver API" -> quiver_api_client).
package = next(m.name for m in pkgutil.iter_modules() if m.name.endswith("_api_client"))
client_mod = importlib.import_module(package)
api = importlib.import_module(f"{package}.api")
models = importlib.import_module(f"{package}.models")


def operation(tag, name):
    return importlib.import_module(f"{package}.api.{tag}.{name}")


anonymous = client_mod.Client(base_url=base)
form = models.TokenForm(username="creator@example.com", password="quiver-demo")
token = operation("auth", "token").sync(client=anonymous, body=form)
assert token is not None and token.access_token, token

authed = client_mod.AuthenticatedClient(base_url=base, token=token.access_token)
page = operation("catalog", "get_products").sync(client=authed, marketplace="amazon.de", limit=50)
promotable = [p for p in page.product_catalog if p.can_promote]
assert promotable, page
asin = promotable[0].asin

body = models.GenerateLinkBody(asin=asin, marketplace="amazon.de", link_name="generated-client")
response = operation("links", "generate").sync_detailed(client=authed, body=body)
assert response.status_code == 201, (response.status_code, response.content)
link = response.parsed
assert link.url.startswith("https://www.amazon.de/dp/"), link.url
again = operation("links", "get_link").sync(client=authed, id=link.id)
assert again.id == link.id and again.link_name == "generated-client"
print(f"generated client created link {link.id} for {asin}: {link.url}")
