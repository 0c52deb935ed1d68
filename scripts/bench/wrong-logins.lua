-- wrk script: wrong-password sign-ins, each for a random unknown address, so every request pays
-- the full argon2id hash (Candor hashes for unknown addresses too) and no account delay applies,
-- and each from a random client address behind the proxy, as a flood from many machines comes.
math.randomseed(os.time())
request = function()
  local body = "email=load" .. math.random(1, 1000000000) .. "%40example.com&password=not+the+right+password"
  local client = "10." .. math.random(0, 255) .. "." .. math.random(0, 255) .. "." .. math.random(1, 254)
  return wrk.format("POST", "/api/account/log_in", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-Forwarded-For"] = client,
  }, body)
end
