## Aftercare messages: Brazilian Portuguese ("você"). Also the fallback for pt-PT.
## Arguments are listed in sdk/src/l10n/mod.rs. A URL always stands alone on its own line.
## `has_name` is set by the localizer: 0 when no first name is known.
## Shop and carrier names take no article (gender unknown): "com { $carrier }".

tracking-shipped =
    { $has_name ->
        [0] Boa notícia!
       *[other] Boa notícia, { $first_name }!
    } { $has_carrier ->
        [0] Seu pedido { $order_number } foi enviado.
       *[other] Seu pedido { $order_number } foi enviado com { $carrier }.
    }{ $has_tracking_number ->
        [0] {""}
       *[other] {" "}Código de rastreio: { $tracking_number }.
    }
    Acompanhe a entrega:
    { $tracking_url }

tracking-out-for-delivery =
    { $has_name ->
        [0] Olá!
       *[other] Olá, { $first_name }!
    } Seu pedido { $order_number } saiu para entrega e deve chegar hoje.
    Acompanhe em tempo real:
    { $tracking_url }

tracking-delivered =
    { $has_name ->
        [0] Olá!
       *[other] Olá, { $first_name }!
    } Seu pedido { $order_number } foi entregue. Esperamos que você goste!

tracking-attempted =
    { $has_name ->
        [0] Olá!
       *[other] Olá, { $first_name }!
    } Houve uma tentativa de entrega do seu pedido { $order_number }{ $has_carrier ->
        [0] {""}
       *[other] {" "}({ $carrier })
    }, sem sucesso. Veja os próximos passos ou reagende:
    { $tracking_url }

tracking-exception =
    { $has_name ->
        [0] Olá!
       *[other] Olá, { $first_name }!
    } Houve um problema na entrega do seu pedido { $order_number }{ $has_carrier ->
        [0] {""}
       *[other] {" "}({ $carrier })
    }. Já estamos cuidando disso. Detalhes:
    { $tracking_url }

tracking-delayed =
    { $has_name ->
        [0] Olá!
       *[other] Olá, { $first_name }!
    } Seu pedido { $order_number } está atrasado. { $has_eta ->
        [0] Ainda não temos uma nova previsão de entrega; avisaremos você.
       *[other] A nova previsão de entrega é { $eta }.
    } Desculpe pela espera!
    Acompanhe aqui:
    { $tracking_url }

content-tutorial =
    { $has_name ->
        [0] Olá!
       *[other] Olá, { $first_name }!
    } Veja dicas para aproveitar ao máximo o produto { $product_title }:
    { $url }

support-link =
    Precisa de ajuda com seu pedido? Fale com { $shop_name } aqui:
    { $url }

survey-nps-invite =
    { $has_name ->
        [0] Olá!
       *[other] Olá, { $first_name }!
    } Você recomendaria { $shop_name } a um amigo? { $replies ->
        [0] Escolha de 0 a 10 no link:
       *[other] Responda de 0 (nada provável) a 10 (muito provável) ou use o link:
    }
    { $url }

survey-csat-invite =
    { $has_name ->
        [0] Olá!
       *[other] Olá, { $first_name }!
    } Você ficou satisfeito com o pedido { $order_number }? { $replies ->
        [0] Escolha de 1 a 5 no link:
       *[other] Responda de 1 (nada) a 5 (muito) ou use o link:
    }
    { $url }

survey-reask = Desculpe, não entendemos sua resposta. Responda apenas com um número de { $score_min } a { $score_max }, por favor.

survey-clarify = Obrigado! Sua resposta tem mais de um número, então não sabemos qual nota você quis dar. Responda com apenas um número de { $score_min } a { $score_max }, por favor.

survey-thanks =
    { $has_name ->
        [0] Obrigado pela sua opinião!
       *[other] Obrigado pela sua opinião, { $first_name }!
    } Ela nos ajuda a melhorar.

survey-closed = Obrigado pela resposta! Esta pesquisa já foi encerrada, então não podemos registrar sua resposta.

optout-confirmed = Pronto: você não receberá mais mensagens de { $shop_name } por aqui. Para voltar a receber, responda START.

optin-confirmed = Você voltou a receber mensagens de { $shop_name }. Para sair a qualquer momento, responda PARAR ou STOP.

help-reply =
    { $shop_name }: atualizações de pedidos e pesquisas. Podem ser cobradas tarifas de mensagens e dados. Para sair, responda PARAR ou STOP. Ajuda:
    { $url }

email-subject-shipped = Seu pedido { $order_number } está a caminho

email-subject-survey = Como foi sua compra em { $shop_name }?

stop-hint = Para sair, responda SAIR.

quiet-footer = Você está recebendo esta mensagem porque fez um pedido em { $shop_name }.

email-footer-stop = { $replies ->
        [0] Não quer mais estes e-mails? Avise a { $shop_name } e paramos.
       *[other] Não quer mais estes e-mails? Responda SAIR.
    }

# WhatsApp template parameters when a value is missing (a template has no selectors).
whatsapp-no-name = cliente
whatsapp-no-carrier = a transportadora
whatsapp-no-tracking-number = na página de rastreamento
