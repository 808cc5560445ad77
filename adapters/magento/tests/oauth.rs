//! OAuth 1.0a signing against RFC 5849's published examples (and the OAuth Core 1.0
//! example the RFC's photos request comes from), plus what Magento needs of it.

use aftercare_magento::OAuth1;
use aftercare_magento::oauth::{SignatureMethod, percent_encode, signature_base_string};
use url::Url;

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn photos() -> OAuth1 {
    OAuth1::new(
        "dpf43f3p2l4k3l03",
        "kd94hf93k423kf44",
        "nnch734d00sl2jdk",
        "pfkkdhi9sl3r4s00",
    )
    .method(SignatureMethod::HmacSha1)
}

/// RFC 5849 §1.2: the photos request, its base string and `oauth_signature`
/// `MdpQcU8iPSUjWoN%2FUDMsK2sui9I%3D`.
#[test]
fn rfc5849_section_1_2_photos_request() {
    let url: Url = "http://photos.example.net/photos?file=vacation.jpg&size=original"
        .parse()
        .unwrap();
    let params = pairs(&[
        ("oauth_consumer_key", "dpf43f3p2l4k3l03"),
        ("oauth_token", "nnch734d00sl2jdk"),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", "137131202"),
        ("oauth_nonce", "chapoH"),
    ]);
    assert_eq!(
        signature_base_string("GET", &url, &params, &[]),
        "GET&http%3A%2F%2Fphotos.example.net%2Fphotos&file%3Dvacation.jpg%26oauth_consumer_key%3Ddpf43f3p2l4k3l03%26oauth_nonce%3DchapoH%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131202%26oauth_token%3Dnnch734d00sl2jdk%26size%3Doriginal"
    );
    let header = photos().authorization_with("GET", &url, params, Some("Photos"));
    assert_eq!(
        header,
        "OAuth realm=\"Photos\", oauth_consumer_key=\"dpf43f3p2l4k3l03\", oauth_token=\"nnch734d00sl2jdk\", oauth_signature_method=\"HMAC-SHA1\", oauth_timestamp=\"137131202\", oauth_nonce=\"chapoH\", oauth_signature=\"MdpQcU8iPSUjWoN%2FUDMsK2sui9I%3D\""
    );
}

/// OAuth Core 1.0 Appendix A.5: the same request with `oauth_version=1.0`, signature
/// `tR3+Ty81lMeYAr/Fid0kMTYa/WM=` (the shape Magento's client sends: with a version).
#[test]
fn oauth_core_1_0_appendix_a5_with_a_version() {
    let url: Url = "http://photos.example.net/photos?file=vacation.jpg&size=original"
        .parse()
        .unwrap();
    let params = pairs(&[
        ("oauth_consumer_key", "dpf43f3p2l4k3l03"),
        ("oauth_token", "nnch734d00sl2jdk"),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", "1191242096"),
        ("oauth_nonce", "kllo9940pd9333jh"),
        ("oauth_version", "1.0"),
    ]);
    let base = signature_base_string("GET", &url, &params, &[]);
    assert_eq!(photos().signature(&base), "tR3+Ty81lMeYAr/Fid0kMTYa/WM=");
}

/// RFC 5849 §3.4.1.1: the base string of a POST with query and form parameters, repeated
/// names, encoded names and values, empty values and a `+` in the form body.
#[test]
fn rfc5849_section_3_4_1_1_base_string() {
    let url: Url = "http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b"
        .parse()
        .unwrap();
    let oauth = pairs(&[
        ("realm", "Example"),
        ("oauth_consumer_key", "9djdj82h48djs9d2"),
        ("oauth_token", "kkk9d7dh3k39sjv7"),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", "137131201"),
        ("oauth_nonce", "7d8f3e4a"),
        ("oauth_signature", "djosJKDKJSD8743243%2Fjdk33klY%3D"),
    ]);
    // The body `c2&a3=2+q`, form-decoded.
    let form: Vec<(String, String)> = url::form_urlencoded::parse(b"c2&a3=2+q")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    assert_eq!(
        signature_base_string("POST", &url, &oauth, &form),
        "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7"
    );
    // §3.4.1.2: the scheme and host lower-cased, the default port left out.
    let upper: Url = "HTTP://EXAMPLE.COM:80/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b"
        .parse()
        .unwrap();
    assert_eq!(
        signature_base_string("POST", &upper, &oauth, &form),
        signature_base_string("POST", &url, &oauth, &form)
    );
}

/// RFC 5849 §3.6: unreserved characters stay, everything else is `%XX` in upper case
/// (UTF-8 bytes), unlike form encoding (`+` for a space, `*` kept).
#[test]
fn rfc5849_section_3_6_percent_encoding() {
    assert_eq!(percent_encode("abcABC123-._~"), "abcABC123-._~");
    assert_eq!(percent_encode("r b"), "r%20b");
    assert_eq!(percent_encode("=%3D"), "%3D%253D");
    assert_eq!(percent_encode("*+!"), "%2A%2B%21");
    assert_eq!(percent_encode("ü"), "%C3%BC");
}

/// Magento's `searchCriteria` brackets are signed as encoded names, and each request gets
/// its own nonce (Magento refuses a nonce used before).
#[test]
fn magento_requests_sign_their_search_criteria_and_never_reuse_a_nonce() {
    let o = OAuth1::new("ck", "cs", "at", "ts");
    let url: Url = "https://shop.example/rest/V1/orders?searchCriteria%5BpageSize%5D=100"
        .parse()
        .unwrap();
    let base = signature_base_string("GET", &url, &o.protocol_params("n", 1), &[]);
    assert!(
        base.contains("searchCriteria%255BpageSize%255D%3D100"),
        "{base}"
    );
    assert!(
        base.contains("oauth_signature_method%3DHMAC-SHA256"),
        "{base}"
    );
    let nonce = |h: &str| {
        h.split(", ")
            .find_map(|p| p.strip_prefix("oauth_nonce="))
            .unwrap()
            .to_owned()
    };
    let a = o.authorization("GET", &url);
    let b = o.authorization("GET", &url);
    assert_ne!(nonce(&a), nonce(&b));
}
