## Aftercare messages: English.
## Arguments are listed in sdk/src/l10n/mod.rs. A URL always stands alone on its own line.
## `has_name` is set by the localizer: 0 when no first name is known.

tracking-shipped =
    { $has_name ->
        [0] Good news!
       *[other] Good news, { $first_name }!
    } { $has_carrier ->
        [0] Your order { $order_number } has shipped.
       *[other] Your order { $order_number } has shipped with { $carrier }.
    }{ $has_tracking_number ->
        [0] {""}
       *[other] {" "}Tracking number: { $tracking_number }.
    }
    Track your parcel:
    { $tracking_url }

tracking-out-for-delivery =
    { $has_name ->
        [0] Hi!
       *[other] Hi { $first_name }!
    } Your order { $order_number } is out for delivery and should arrive today.
    Follow it live:
    { $tracking_url }

tracking-delivered =
    { $has_name ->
        [0] Hi!
       *[other] Hi { $first_name }!
    } Your order { $order_number } has been delivered. We hope you love it!

tracking-attempted =
    { $has_name ->
        [0] Hi,
       *[other] Hi { $first_name },
    } { $has_carrier ->
        [0] The carrier tried to deliver your order { $order_number } but couldn't.
       *[other] { $carrier } tried to deliver your order { $order_number } but couldn't.
    } See the next steps or choose a new delivery time:
    { $tracking_url }

tracking-exception =
    { $has_name ->
        [0] Hi,
       *[other] Hi { $first_name },
    } there's a problem with the delivery of your order { $order_number }{ $has_carrier ->
        [0] {""}
       *[other] {" "}({ $carrier })
    }. We're on it. Details:
    { $tracking_url }

tracking-delayed =
    { $has_name ->
        [0] Hi,
       *[other] Hi { $first_name },
    } your order { $order_number } is running late. { $has_eta ->
        [0] We don't have a new delivery date yet and will let you know.
       *[other] The new estimated delivery date is { $eta }.
    } Sorry for the wait!
    Track it here:
    { $tracking_url }

content-tutorial =
    { $has_name ->
        [0] Hi!
       *[other] Hi { $first_name }!
    } Here's how to get the most out of your { $product_title }:
    { $url }

support-link =
    Need help with your order? Contact { $shop_name } here:
    { $url }

survey-nps-invite =
    { $has_name ->
        [0] Hi!
       *[other] Hi { $first_name }!
    } How likely are you to recommend { $shop_name } to a friend? { $replies ->
        [0] Tap a score from 0 to 10 here:
       *[other] Reply 0 (not likely) to 10 (very likely), or tap here:
    }
    { $url }

survey-csat-invite =
    { $has_name ->
        [0] Hi!
       *[other] Hi { $first_name }!
    } How satisfied are you with your order { $order_number }? { $replies ->
        [0] Tap a score from 1 to 5 here:
       *[other] Reply 1 (very dissatisfied) to 5 (very satisfied), or tap here:
    }
    { $url }

survey-reask = Sorry, we didn't catch that. Please reply with just a number from { $score_min } to { $score_max }.

survey-clarify = Thanks! Your reply has more than one number, so we can't tell which score you meant. Please reply with just one number from { $score_min } to { $score_max }.

survey-thanks =
    { $has_name ->
        [0] Thank you for your feedback!
       *[other] Thank you for your feedback, { $first_name }!
    } It helps us do better.

survey-closed = Thanks for replying! This survey has closed, so we can't record your answer.

optout-confirmed = You're unsubscribed and won't get any more messages from { $shop_name } here. Reply START to subscribe again.

optin-confirmed = You're subscribed again to messages from { $shop_name }. Reply STOP to opt out at any time.

help-reply =
    { $shop_name }: order updates and feedback requests. Msg & data rates may apply. Reply STOP to opt out. Help:
    { $url }

email-subject-shipped = Your order { $order_number } is on its way

email-subject-survey = How was your order from { $shop_name }?

stop-hint = Reply STOP to opt out.

quiet-footer = You're receiving this message because you placed an order with { $shop_name }.

email-footer-stop = { $replies ->
        [0] Don't want these emails? Tell { $shop_name } and we'll stop.
       *[other] Don't want these emails? Reply STOP.
    }

# WhatsApp template parameters when a value is missing (a template has no selectors).
whatsapp-no-name = there
whatsapp-no-carrier = our carrier
whatsapp-no-tracking-number = on the tracking page
